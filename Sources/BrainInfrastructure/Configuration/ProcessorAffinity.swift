#if canImport(Glibc)
import Glibc
#endif

/// How many CPUs this process may run on. Unlike the machine's core count, this honours
/// `taskset`/cpusets, so a gateway pinned to one core runs one event loop instead of several
/// threads fighting over that core. Read from `/proc/self/status` (`Cpus_allowed`), since
/// Glibc's `sched_getaffinity` is not visible to Swift without `_GNU_SOURCE`.
public enum ProcessorAffinity {
    public static func availableCores(fallback: Int) -> Int {
        #if os(Linux)
        guard let file = fopen("/proc/self/status", "r") else { return fallback }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 4096)
        while fgets(&line, Int32(line.count), file) != nil {
            let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            guard text.hasPrefix("Cpus_allowed:") else { continue }
            let mask = text.dropFirst("Cpus_allowed:".count)
            let count = mask.reduce(0) { total, character in
                total + (character.hexDigitValue.map { $0.nonzeroBitCount } ?? 0)
            }
            return count > 0 ? count : fallback
        }
        return fallback
        #else
        return fallback
        #endif
    }
}
