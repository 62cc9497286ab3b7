# Run by `cmake --install` and by CPack: installs the systemd units under
# PREFIX/lib/systemd/system with their paths pointing at PREFIX (deploy/*.service are written
# for /usr/local). Expects PGCS_SOURCE_DIR and PGCS_BINARY_DIR.
set(units_out "${PGCS_BINARY_DIR}/installed-units")
file(MAKE_DIRECTORY "${units_out}")
foreach(unit pgchangeset.service pgchangeset@.service)
  file(READ "${PGCS_SOURCE_DIR}/deploy/${unit}" text)
  string(REPLACE "/usr/local/bin/pgchangeset" "${CMAKE_INSTALL_PREFIX}/bin/pgchangeset" text "${text}")
  string(REPLACE "/usr/local/share/doc/" "${CMAKE_INSTALL_PREFIX}/share/doc/" text "${text}")
  file(WRITE "${units_out}/${unit}" "${text}")
  file(INSTALL DESTINATION "${CMAKE_INSTALL_PREFIX}/lib/systemd/system" TYPE FILE
       PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ FILES "${units_out}/${unit}")
endforeach()
