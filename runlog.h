// The umbrella header of the runlog library: a program that records runs or
// reads them back needs only this one.
//
// Installed, it is <runlog/runlog.h> and every header is also reachable as
// <runlog/<folder>/<name>.h> (<runlog/tracking/repo.h>); linking the CMake
// target runlog::runlog or `pkg-config runlog` gives those include paths in an
// installed tree and in an add_subdirectory/FetchContent build alike
// (docs/packaging.md).
#ifndef RUNLOG_RUNLOG_H_
#define RUNLOG_RUNLOG_H_

#include "tracking/repo.h"
#include "tracking/run.h"
#include "tracking/series.h"
#include "tracking/value.h"

#endif  // RUNLOG_RUNLOG_H_
