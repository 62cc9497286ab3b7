# Run by CPack only (CPACK_INSTALL_SCRIPTS): puts the example config where the units read it,
# /etc/pgchangeset/pgchangeset.yaml, a conffile of the package (deploy/debian/conffiles), so
# dpkg keeps an edited copy on upgrade and removes it on purge. `cmake --install` leaves /etc
# alone. Expects CPACK_PGCS_EXAMPLE_CONFIG.
file(INSTALL DESTINATION "/etc/pgchangeset" TYPE FILE
     PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
     FILES "${CPACK_PGCS_EXAMPLE_CONFIG}")
