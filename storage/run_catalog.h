// The run catalog: one file at the repository root that caches what listing
// needs of every committed run (its manifest without the segment list), so
// that listing a repository of N committed runs reads one directory and one
// file instead of N directories and N COMMIT files.
//
// The catalog is a cache, never the truth. runs/<id>/COMMIT is. An entry
// holds only what cannot change after a run commits (status, end time,
// reason, summary; compaction rewrites COMMIT but keeps these), and it is
// used only while runs/<id> exists, so a deleted run disappears from
// listings at once. Any process that lists may rewrite the catalog: it
// writes a new file under a unique temporary name and renames it over the
// old one, so readers see either the old or the new catalog whole and no two
// processes ever write the same file (DESIGN.md invariant 1). The layout is
// in storage/format.h and docs/format.md.
#ifndef RUNLOG_STORAGE_RUN_CATALOG_H_
#define RUNLOG_STORAGE_RUN_CATALOG_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "storage/commit_manifest.h"
#include "storage/file_system.h"

namespace runlog::storage {

// Encodes `runs` (their segment lists are not stored). InvalidArgument if a
// manifest cannot be encoded (see EncodeCommitManifest).
absl::StatusOr<std::string> EncodeRunCatalog(
    const std::vector<CommitManifest>& runs);

// Decodes a catalog; every manifest comes back with no segments. DataLoss
// naming `path` and the byte offset for damage; Unimplemented for a newer
// version.
absl::StatusOr<std::vector<CommitManifest>> DecodeRunCatalog(
    absl::string_view bytes, absl::string_view path);

// Reads <root>/CATALOG. NotFound if there is none; otherwise as
// DecodeRunCatalog, or the file system's error.
absl::StatusOr<std::vector<CommitManifest>> ReadRunCatalog(
    FileSystem& fs, const std::string& root);

// Replaces <root>/CATALOG with one holding `runs`: writes
// <root>/CATALOG.tmp.<unique_suffix>, then renames it. Not synced: after a
// power loss the catalog may be missing or damaged, which readers treat as
// empty. On failure the temporary file is removed (best effort).
absl::Status WriteRunCatalog(FileSystem& fs, const std::string& root,
                             const std::vector<CommitManifest>& runs,
                             absl::string_view unique_suffix);

// Whether `name` (a file name at the repository root) is a catalog
// temporary file, which recovery removes once it is stale.
bool IsCatalogTempFileName(absl::string_view name);

}  // namespace runlog::storage

#endif  // RUNLOG_STORAGE_RUN_CATALOG_H_
