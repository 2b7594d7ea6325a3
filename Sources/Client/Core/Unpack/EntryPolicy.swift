#if canImport(Glibc)
import Glibc
#endif

/// Decides, from an entry's header alone, whether it may be extracted.
///
/// Refused: absolute paths, any `..` component, symbolic links whose target leaves the folder (absolute or climbing
/// above it), hard links to such paths, and character or block devices.
enum EntryPolicy {
    /// What kind of entry it is, as far as the policy cares.
    enum Kind: Equatable { case regular, directory, symlink(String), hardlink(String), device, other }

    /// Why `path` of `kind` is refused, or nil when it may be extracted.
    static func problem(path: String, kind: Kind) -> String? {
        if let problem = pathProblem(path) { return problem }
        switch kind {
        case .device:
            return "\(path.debugDescription) is a device file"
        case .symlink(let target):
            if target.hasPrefix("/") {
                return "\(path.debugDescription) links to the absolute path \(target.debugDescription)"
            }
            let parent = Array(components(path).dropLast())
            guard stays(inside: parent + components(target)) else {
                return "\(path.debugDescription) links to \(target.debugDescription), outside the folder"
            }
            return nil
        case .hardlink(let target):
            if let problem = pathProblem(target) {
                return "\(path.debugDescription) is a hard link whose target \(problem)"
            }
            return nil
        case .regular, .directory, .other:
            return nil
        }
    }

    /// Why a path inside the archive is unsafe, or nil.
    static func pathProblem(_ path: String) -> String? {
        if path.isEmpty { return "has an empty path" }
        if path.hasPrefix("/") { return "\(path.debugDescription) is an absolute path" }
        if path.split(separator: "/").contains("..") { return "\(path.debugDescription) contains '..'" }
        return nil
    }

    private static func components(_ path: String) -> [Substring] {
        path.split(separator: "/").filter { $0 != "." }
    }

    /// True when walking `parts` from the folder never climbs above it.
    private static func stays(inside parts: [Substring]) -> Bool {
        var depth = 0
        for part in parts {
            depth += part == ".." ? -1 : 1
            if depth < 0 { return false }
        }
        return true
    }
}
