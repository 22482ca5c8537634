# runlog as a package for other projects (docs/packaging.md): the targets
# runlog::runlog (umbrella), runlog::tracking, runlog::storage and
# runlog::interop in a build tree (add_subdirectory, FetchContent) and in an
# installed one (find_package), plus runlog.pc and runlog-interop.pc.
#
# Include paths. The sources include each other from the repository root
# ("tracking/repo.h"); installed, the headers keep that layout under
# <prefix>/include/runlog/, and the targets carry both <prefix>/include (for
# <runlog/tracking/repo.h>, the spelling a user writes) and
# <prefix>/include/runlog (so the headers' own "storage/..." includes
# resolve). In a build tree, runlog::runlog adds <build>/include, where
# `runlog` is a symbolic link to the source root, so <runlog/...> works there
# too without touching how runlog's own targets compile.

include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(RUNLOG_PACKAGE_LIBS runlog_storage runlog_tracking)
set(RUNLOG_PACKAGE_HAS_INTEROP FALSE)
set_target_properties(runlog_storage PROPERTIES EXPORT_NAME storage)
set_target_properties(runlog_tracking PROPERTIES EXPORT_NAME tracking)
add_library(runlog::storage ALIAS runlog_storage)
add_library(runlog::tracking ALIAS runlog_tracking)
if(TARGET runlog_interop)
  list(APPEND RUNLOG_PACKAGE_LIBS runlog_interop)
  set(RUNLOG_PACKAGE_HAS_INTEROP TRUE)
  set_target_properties(runlog_interop PROPERTIES EXPORT_NAME interop)
  add_library(runlog::interop ALIAS runlog_interop)
endif()

set(RUNLOG_BUILD_INCLUDE_DIR ${PROJECT_BINARY_DIR}/include)
file(MAKE_DIRECTORY ${RUNLOG_BUILD_INCLUDE_DIR})
file(CREATE_LINK ${PROJECT_SOURCE_DIR} ${RUNLOG_BUILD_INCLUDE_DIR}/runlog
     SYMBOLIC)

add_library(runlog INTERFACE)
add_library(runlog::runlog ALIAS runlog)
target_link_libraries(runlog INTERFACE runlog_tracking)
target_include_directories(runlog INTERFACE
  $<BUILD_INTERFACE:${RUNLOG_BUILD_INCLUDE_DIR}>)
foreach(lib ${RUNLOG_PACKAGE_LIBS})
  target_include_directories(${lib} INTERFACE
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}/runlog>)
endforeach()

if(NOT RUNLOG_INSTALL)
  return()
endif()

# Headers and libraries (component devel), segtool (tools), the Python module
# (python/CMakeLists.txt). Every destination is relative to the prefix, so
# `cmake --install B --prefix P` and DESTDIR apply to each file.
set(RUNLOG_HEADER_DIRS storage tracking)
if(TARGET runlog_interop)
  list(APPEND RUNLOG_HEADER_DIRS interop)
endif()
install(DIRECTORY ${RUNLOG_HEADER_DIRS}
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/runlog
        COMPONENT devel
        FILES_MATCHING PATTERN "*.h"
        PATTERN "proto" EXCLUDE)
install(FILES runlog.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/runlog
        COMPONENT devel)
install(TARGETS ${RUNLOG_PACKAGE_LIBS} runlog
        EXPORT runlogTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT devel
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT devel)
if(RUNLOG_BUILD_TOOLS AND TARGET segtool)
  install(TARGETS segtool RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
          COMPONENT tools)
endif()

set(RUNLOG_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/runlog)
install(EXPORT runlogTargets NAMESPACE runlog:: DESTINATION ${RUNLOG_CMAKE_DIR}
        COMPONENT devel)
configure_package_config_file(cmake/runlogConfig.cmake.in
  ${PROJECT_BINARY_DIR}/runlogConfig.cmake
  INSTALL_DESTINATION ${RUNLOG_CMAKE_DIR})
# Before 1.0 a minor release may break the API: same minor version only.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/runlogConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/runlogConfig.cmake
              ${PROJECT_BINARY_DIR}/runlogConfigVersion.cmake
        DESTINATION ${RUNLOG_CMAKE_DIR} COMPONENT devel)

# pkg-config. The libraries are static, so a plain `pkg-config --libs` must
# name every library they link, private ones included: the modules of their
# dependencies go into Requires (not Requires.private), read off the targets'
# link libraries so the .pc files follow the CMake lists. A dependency with
# no mapping here stops the configure rather than produce a .pc that fails to
# link.
# System libraries with no module (dl) go into `libs_out` as -l flags.
function(runlog_pc_requires out libs_out)
  set(modules)
  set(system_libs)
  foreach(lib ${ARGN})
    get_target_property(deps ${lib} LINK_LIBRARIES)
    foreach(dep ${deps})
      if(dep MATCHES "^absl::(.+)$")
        list(APPEND modules absl_${CMAKE_MATCH_1})
      elseif(dep STREQUAL "PkgConfig::XXHASH")
        list(APPEND modules libxxhash)
      elseif(dep STREQUAL "PkgConfig::ZSTD")
        list(APPEND modules libzstd)
      elseif(dep STREQUAL "PkgConfig::RE2")
        list(APPEND modules re2)
      elseif(dep STREQUAL "PkgConfig::SQLITE3")
        list(APPEND modules sqlite3)
      elseif(dep STREQUAL "protobuf::libprotobuf")
        list(APPEND modules protobuf)
      elseif(dep STREQUAL "ZLIB::ZLIB")
        list(APPEND modules zlib)
      elseif(CMAKE_DL_LIBS AND dep IN_LIST CMAKE_DL_LIBS)
        list(APPEND system_libs -l${dep})
      elseif(dep MATCHES "^runlog_" OR dep MATCHES "^\\$<BUILD_INTERFACE:")
        # runlog's own (Libs and Requires: runlog) or build-only.
      else()
        message(FATAL_ERROR "runlog.pc: no pkg-config module known for ${lib}'s "
                            "dependency ${dep} (cmake/RunlogPackage.cmake)")
      endif()
    endforeach()
  endforeach()
  list(REMOVE_DUPLICATES modules)
  list(REMOVE_DUPLICATES system_libs)
  list(JOIN modules " " joined)
  list(JOIN system_libs " " joined_libs)
  set(${out} "${joined}" PARENT_SCOPE)
  set(${libs_out} "${joined_libs}" PARENT_SCOPE)
endfunction()

# The .pc files locate the prefix from their own directory (${pcfiledir}), so
# they stay right under `--prefix P` given at install time, DESTDIR and a
# moved tree.
set(RUNLOG_PC_DIR ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
file(RELATIVE_PATH RUNLOG_PC_TO_PREFIX /${RUNLOG_PC_DIR} /)
string(REGEX REPLACE "/$" "" RUNLOG_PC_TO_PREFIX "${RUNLOG_PC_TO_PREFIX}")
set(RUNLOG_PC_PREFIX "\${pcfiledir}/${RUNLOG_PC_TO_PREFIX}")

runlog_pc_requires(RUNLOG_PC_REQUIRES RUNLOG_PC_SYSTEM_LIBS runlog_storage
                   runlog_tracking)
set(RUNLOG_PC_NAME runlog)
set(RUNLOG_PC_DESCRIPTION "Crash-safe embedded store for ML experiment tracking")
string(STRIP "-lrunlog_tracking -lrunlog_storage ${RUNLOG_PC_SYSTEM_LIBS}"
       RUNLOG_PC_LIBS)
configure_file(cmake/runlog.pc.in ${PROJECT_BINARY_DIR}/runlog.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/runlog.pc DESTINATION ${RUNLOG_PC_DIR}
        COMPONENT devel)
if(TARGET runlog_interop)
  runlog_pc_requires(RUNLOG_PC_REQUIRES RUNLOG_PC_SYSTEM_LIBS runlog_interop)
  set(RUNLOG_PC_REQUIRES "runlog ${RUNLOG_PC_REQUIRES}")
  set(RUNLOG_PC_NAME runlog-interop)
  set(RUNLOG_PC_DESCRIPTION "runlog's importers and exporters of other trackers' formats")
  string(STRIP "-lrunlog_interop ${RUNLOG_PC_SYSTEM_LIBS}" RUNLOG_PC_LIBS)
  configure_file(cmake/runlog.pc.in ${PROJECT_BINARY_DIR}/runlog-interop.pc @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/runlog-interop.pc
          DESTINATION ${RUNLOG_PC_DIR} COMPONENT devel)
endif()
