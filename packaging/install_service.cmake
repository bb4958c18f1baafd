# Runs at `cmake --install` time (install(SCRIPT) in CMakeLists.txt), so the
# paths written into the unit are those of the prefix installed to, also when
# `--prefix` differs from the configured one. file(INSTALL) honours DESTDIR.
# Set before: CONFLUX_SOURCE_DIR, CONFLUX_BINARY_DIR, CONFLUX_BINDIR, CONFLUX_DOCDIR.

# /usr is the system's own prefix, whose configuration lives in /etc (the GNU
# coding standards' sysconfdir rule, as GNUInstallDirs applies it).
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(conflux_etc "/etc/conflux")
else()
  set(conflux_etc "${CMAKE_INSTALL_PREFIX}/etc/conflux")
endif()

set(CONFLUX_BINARY "${CMAKE_INSTALL_PREFIX}/${CONFLUX_BINDIR}/conflux")
set(CONFLUX_CONFIG_FILE "${conflux_etc}/conflux.toml")
set(CONFLUX_DOC_README "${CMAKE_INSTALL_PREFIX}/${CONFLUX_DOCDIR}/README.md")
configure_file("${CONFLUX_SOURCE_DIR}/packaging/conflux.service.in" "${CONFLUX_BINARY_DIR}/packaging/conflux.service"
               @ONLY)

# An edited configuration is never overwritten: the new example goes beside it.
if(EXISTS "$ENV{DESTDIR}${CONFLUX_CONFIG_FILE}")
  message(STATUS "Keeping: $ENV{DESTDIR}${CONFLUX_CONFIG_FILE} (the example is conflux.toml.example)")
  file(INSTALL "${CONFLUX_SOURCE_DIR}/packaging/conflux.toml" DESTINATION "${conflux_etc}"
       RENAME conflux.toml.example)
else()
  file(INSTALL "${CONFLUX_SOURCE_DIR}/packaging/conflux.toml" DESTINATION "${conflux_etc}")
endif()
file(INSTALL "${CONFLUX_BINARY_DIR}/packaging/conflux.service"
     DESTINATION "${CMAKE_INSTALL_PREFIX}/lib/systemd/system")
file(INSTALL "${CONFLUX_SOURCE_DIR}/packaging/conflux.sysusers" DESTINATION "${CMAKE_INSTALL_PREFIX}/lib/sysusers.d"
     RENAME conflux.conf)
