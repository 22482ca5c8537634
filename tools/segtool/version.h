// The version segtool reports. SEGTOOL_VERSION comes from the CMake project
// version (tools/CMakeLists.txt), so it is set in one place only.
#ifndef RUNLOG_TOOLS_SEGTOOL_VERSION_H_
#define RUNLOG_TOOLS_SEGTOOL_VERSION_H_

namespace runlog::segtool {

#ifndef SEGTOOL_VERSION
#error "SEGTOOL_VERSION must be defined by the build (tools/CMakeLists.txt)"
#endif
inline constexpr char kVersion[] = SEGTOOL_VERSION;

}  // namespace runlog::segtool

#endif  // RUNLOG_TOOLS_SEGTOOL_VERSION_H_
