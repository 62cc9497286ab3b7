# The Debian package (CPack): `cmake --build build --target package` writes
# build/pgchangeset_<version>_amd64.deb with the daemon, its systemd units, the example config
# as /etc/pgchangeset/pgchangeset.yaml and the docs. Depends: only the shared libraries the
# binary links (dpkg-shlibdeps), so no PostgreSQL server, JDK or Maven. The dev broker is a
# test tool and is not packaged. Included from the top CMakeLists.txt after the install rules.
set(PGCS_PACKAGE_MAINTAINER "pgchangeset maintainers <pgchangeset@localhost>"
    CACHE STRING "Maintainer field of the Debian package")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME pgchangeset)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "${PGCS_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "PostgreSQL row changes to Kafka (change data capture daemon)")
set(CPACK_PACKAGE_DESCRIPTION
    "pgchangeset streams every committed row change of PostgreSQL tables to Kafka as typed
added/modified/deleted changesets, read from logical replication (pgoutput) and published
as JSON with librdkafka. Runs under systemd: pgchangeset.service, or pgchangeset@NAME.service
for one pipeline per /etc/pgchangeset/NAME.yaml. Installing enables and starts nothing.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)                 # pgchangeset_0.1.0_amd64.deb
set(CPACK_DEBIAN_PACKAGE_SECTION database)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)                  # Depends from the linked libraries
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_SOURCE_DIR}/deploy/debian/conffiles ${CMAKE_SOURCE_DIR}/deploy/debian/postinst
    ${CMAKE_SOURCE_DIR}/deploy/debian/prerm ${CMAKE_SOURCE_DIR}/deploy/debian/postrm)
# For the CPack-only install script (CPackConfig.cmake keeps only CPACK_* variables).
set(CPACK_PGCS_EXAMPLE_CONFIG ${CMAKE_SOURCE_DIR}/deploy/example/pgchangeset.yaml)
set(CPACK_INSTALL_SCRIPTS ${CMAKE_SOURCE_DIR}/deploy/package-conffiles.cmake)
include(CPack)
