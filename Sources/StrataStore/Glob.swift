import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// File name patterns for `databases` and `--db`: `*`, `?` and `[...]`
/// within one path component (as a shell reads them: a leading `.` is
/// matched only by a pattern that starts with one), and `**` for any number
/// of directories, hidden ones excepted. Matches come in a stable order:
/// sorted by path.
package enum Glob {
    /// Whether `text` is a pattern rather than a plain path.
    package static func isPattern(_ text: String) -> Bool { text.contains { $0 == "*" || $0 == "?" || $0 == "[" } }

    /// The regular files that `pattern` (absolute) matches, sorted.
    package static func expand(_ pattern: String) -> [String] {
        var components = pattern.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        var base = pattern.hasPrefix("/") ? "/" : "."
        // The plain leading directories need no listing.
        while let first = components.first, !isPattern(first), components.count > 1 {
            base = (base as NSString).appendingPathComponent(first)
            components.removeFirst()
        }
        var found = Set<String>()
        walk(base, components[...], into: &found)
        return found.sorted()
    }

    private static func walk(_ directory: String, _ rest: ArraySlice<String>, into found: inout Set<String>) {
        guard let component = rest.first else { return }
        let fm = FileManager.default
        let remaining = rest.dropFirst()
        if component == "**" {
            // Zero directories, then one more level at a time.
            walk(directory, remaining, into: &found)
            for name in (try? fm.contentsOfDirectory(atPath: directory)) ?? [] where !name.hasPrefix(".") {
                let path = (directory as NSString).appendingPathComponent(name)
                if isDirectory(path) { walk(path, rest, into: &found) }
            }
            return
        }
        let names = isPattern(component)
            ? ((try? fm.contentsOfDirectory(atPath: directory)) ?? []).filter { matches(component, $0) }
            : [component]
        for name in names {
            let path = (directory as NSString).appendingPathComponent(name)
            if remaining.isEmpty {
                var isDir: ObjCBool = false
                if fm.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue { found.insert(path) }
            } else if isDirectory(path) {
                walk(path, remaining, into: &found)
            }
        }
    }

    static func matches(_ pattern: String, _ name: String) -> Bool { fnmatch(pattern, name, FNM_PERIOD) == 0 }

    private static func isDirectory(_ path: String) -> Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && isDir.boolValue
    }
}
