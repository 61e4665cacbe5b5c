import ArgumentParser
import BrainAPI
import BrainApplication
import BrainDomain
import BrainInfrastructure
import Foundation
import Logging
import NIOCore

/// `brain-gateway`: reads the environment (design.md §3) and the YAML file, then serves until
/// SIGTERM/SIGINT. A bad setting stops it with one line naming the variable or field, exit 1.
@main
struct BrainGatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "brain-gateway",
        abstract: "Brain Gateway: the platform's single entry point.",
        discussion: "Settings come from environment variables (see README); --config overrides BRAIN_GATEWAY_CONFIG."
    )

    @Option(name: .long, help: "YAML file of services (overrides BRAIN_GATEWAY_CONFIG).")
    var config: String?

    @Flag(name: .long, help: "Validate the configuration, print a summary and exit.")
    var checkConfig = false

    func run() async throws {
        let configuration: GatewayConfiguration
        do {
            configuration = try loadConfiguration()
        } catch {
            FileHandle.standardError.write(Data("brain-gateway: \(error)\n".utf8))
            throw ExitCode(1)
        }
        let level = configuration.settings.logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardOutput(label: label)
            handler.logLevel = level
            return handler
        }
        var logger = Logger(label: "brain-gateway")
        logger.logLevel = level
        if checkConfig {
            print("configuration ok: \(configuration.services.count) services")
            return
        }
        let threads = configuration.settings.eventLoopThreads > 0
            ? configuration.settings.eventLoopThreads
            : ProcessorAffinity.availableCores(fallback: System.coreCount)
        let gateway = try BrainGateway(configuration: configuration, logger: logger, threads: threads)
        try await gateway.run()
    }

    private func loadConfiguration() throws -> GatewayConfiguration {
        var settings = try EnvironmentSettingsReader(environment: ProcessInfo.processInfo.environment).read()
        if let config { settings.configPath = config }
        var services: [ServiceRoute] = []
        if let path = settings.configPath {
            guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
                throw ConfigurationError(field: "BRAIN_GATEWAY_CONFIG", reason: "cannot read '\(path)'")
            }
            services = try ServiceFileLoader().load(yaml: text).services
        }
        return GatewayConfiguration(settings: settings, services: services)
    }
}
