import ArgumentParser
import BrainAPI
import BrainApplication
import BrainDomain
import BrainInfrastructure
import Foundation
import Logging
import NIOCore

/// `brain-gateway`: reads the environment and the YAML file, then serves until
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

    @Flag(name: .long, help: "Development mode: without JWT_SECRET, generate a random HS256 key and print it with a sample platform-admin token.")
    var dev = false

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
        let sealer: SecretSealer?
        do {
            sealer = try loadSecretsKey(configuration, logger: logger)
        } catch let error as ConfigurationError {
            FileHandle.standardError.write(Data("brain-gateway: \(error)\n".utf8))
            throw ExitCode(1)
        }
        if checkConfig {
            print("configuration ok: \(configuration.services.count) services")
            return
        }
        let hs256Key: TokenVerifier.Key?
        do {
            hs256Key = try await makeHS256Key(configuration, logger: logger)
        } catch let error as ConfigurationError {
            FileHandle.standardError.write(Data("brain-gateway: \(error)\n".utf8))
            throw ExitCode(1)
        }
        let threads = configuration.settings.eventLoopThreads > 0
            ? configuration.settings.eventLoopThreads
            : ProcessorAffinity.availableCores(fallback: System.coreCount)
        let signer: ProofOfOriginSigner
        do {
            signer = try loadSigningKey(logger: logger)
        } catch let error as ConfigurationError {
            FileHandle.standardError.write(Data("brain-gateway: \(error)\n".utf8))
            throw ExitCode(1)
        }
        let gateway = try BrainGateway(
            configuration: configuration, hs256Key: hs256Key, signer: signer, secretsSealer: sealer, logger: logger, threads: threads)
        do {
            try await gateway.run()
        } catch let error as ConfigurationError {
            // The store could not be opened: one line, like every other configuration problem.
            FileHandle.standardError.write(Data("brain-gateway: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }

    /// The HS256 client-token key: `JWT_SECRET`, or a generated one in `--dev` when no key
    /// source (secret, JWKS or introspection) is configured. Nil when only JWKS keys or the auth
    /// service's introspection are used.
    private func makeHS256Key(_ configuration: GatewayConfiguration, logger: Logger) async throws -> TokenVerifier.Key? {
        let settings = configuration.settings
        if let secret = settings.jwtSecret { return try await TokenVerifier.hs256Key(secret: secret) }
        if settings.jwtJWKSURL != nil || settings.introspection != nil { return nil }
        guard dev else {
            throw ConfigurationError(
                field: "JWT_SECRET", reason: "set JWT_SECRET (HS256, at least 32 bytes), JWT_JWKS_URL or AUTH_INTROSPECTION_URL, or start with --dev")
        }
        let credentials = try await DevelopmentCredentials.generate()
        // Printed on purpose, once: development mode exists to hand these to the developer.
        let notice = """
            brain-gateway: development mode — a random HS256 key was generated for this run.
              JWT_SECRET=\(credentials.secret)
              sample platform-admin token (tenant \(DevelopmentCredentials.sampleTenant), valid 24 h):
              Authorization: Bearer \(credentials.sampleAdminToken)
            """
        FileHandle.standardOutput.write(Data((notice + "\n").utf8))
        logger.warning("development mode: tokens are signed with a generated key that is lost on restart")
        return try await TokenVerifier.hs256Key(secret: credentials.secret)
    }

    /// The embedded secret store's key: `BRAIN_GATEWAY_SECRETS_KEY(_FILE)`, or in `--dev` (and
    /// without Vault) one generated for this run — credentials stored with it are unreadable
    /// after a restart, which the warning says.
    private func loadSecretsKey(_ configuration: GatewayConfiguration, logger: Logger) throws -> SecretSealer? {
        if let sealer = try SecretSealer.configured(ProcessInfo.processInfo.environment) { return sealer }
        guard dev, configuration.settings.vault == nil else { return nil }
        logger.warning("development mode: integration credentials are sealed with a generated key that is lost on restart")
        return SecretSealer.generated()
    }

    /// The ES256 key for `X-Brain-Token`: `BRAIN_GATEWAY_SIGNING_KEY_FILE` or
    /// `BRAIN_GATEWAY_SIGNING_KEY` (PEM), else one generated for this process.
    private func loadSigningKey(logger: Logger) throws -> ProofOfOriginSigner {
        let environment = ProcessInfo.processInfo.environment
        if let file = environment["BRAIN_GATEWAY_SIGNING_KEY_FILE"], !file.isEmpty {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw ConfigurationError(field: "BRAIN_GATEWAY_SIGNING_KEY_FILE", reason: "cannot read '\(file)'")
            }
            do { return try ProofOfOriginSigner(pem: String(decoding: data, as: UTF8.self)) } catch {
                throw ConfigurationError(field: "BRAIN_GATEWAY_SIGNING_KEY_FILE", reason: "not a PEM P-256 private key")
            }
        }
        if let pem = environment["BRAIN_GATEWAY_SIGNING_KEY"], !pem.isEmpty {
            do { return try ProofOfOriginSigner(pem: pem) } catch {
                throw ConfigurationError(field: "BRAIN_GATEWAY_SIGNING_KEY", reason: "not a PEM P-256 private key (the value is not shown)")
            }
        }
        let signer = ProofOfOriginSigner.generated()
        logger.notice("X-Brain-Token signing key generated for this process (kid \(signer.keyID)); set BRAIN_GATEWAY_SIGNING_KEY_FILE so restarts and replicas share one")
        return signer
    }

    private func loadConfiguration() throws -> GatewayConfiguration {
        var settings = try EnvironmentSettingsReader(environment: ProcessInfo.processInfo.environment).read()
        if let config { settings.configPath = config }
        var file = ServiceFile(services: [], auth: AuthSettings())
        if let path = settings.configPath {
            guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
                throw ConfigurationError(field: "BRAIN_GATEWAY_CONFIG", reason: "cannot read '\(path)'")
            }
            file = try ServiceFileLoader().load(yaml: text)
        }
        let configuration = file.configuration(settings: settings)
        return configuration
    }
}
