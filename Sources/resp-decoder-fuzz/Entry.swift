import Foundation

#if FUZZING
import CFuzzerDriver

/// libFuzzer's driver with the split property as its test: a violation stops the run and
/// libFuzzer keeps the input.
@main
struct RESPDecoderFuzz {
    static func main() {
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        let status = LLVMFuzzerRunDriver(&argc, &argv) { data, size in
            guard let data else { return 0 }
            if let problem = SplitProperty.violation(Array(UnsafeBufferPointer(start: data, count: size))) { fatalError(problem) }
            return 0
        }
        exit(status)
    }
}
#else
/// `resp-decoder-fuzz FILE|DIR…`: replays inputs (a corpus, crashes the fuzzer saved) through
/// the split property. Exit 1 on any violation.
@main
struct RESPDecoderReplay {
    static func main() {
        var files: [String] = []
        for path in CommandLine.arguments.dropFirst() {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { continue }
            if isDirectory.boolValue {
                files += ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted().map { path + "/" + $0 }
            } else {
                files.append(path)
            }
        }
        var findings: [String] = []
        for file in files {
            guard let data = FileManager.default.contents(atPath: file) else { continue }
            if let problem = SplitProperty.violation(Array(data)) { findings.append("\(file): \(problem)") }
        }
        print("replayed \(files.count) inputs: \(findings.count) violations")
        for finding in findings.prefix(20) { print(finding) }
        if !findings.isEmpty || files.isEmpty { exit(1) }
    }
}
#endif
