import BrainInfrastructure
import Foundation
import Testing

/// What ships for deployment, tested as far as a machine without a container engine can: the
/// Kubernetes manifests and the compose file against their schemas, the Dockerfile's shape,
/// the configurations they carry loaded by the gateway's own loader, and the image's entry
/// point run as-is on this host.
@Suite struct DeploymentTests {
    static var root: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    @Test func theManifestsComposeFileAndDockerfileValidate() async throws {
        let schema = try #require(
            ProcessInfo.processInfo.environment["BRAIN_TEST_COMPOSE_SCHEMA"],
            "BRAIN_TEST_COMPOSE_SCHEMA names the Compose Specification's JSON schema (scripts/test fetches it)")
        let script = Self.root.appendingPathComponent("Tests/BrainGatewayTests/Fixtures/validate_deploy.py").path
        let result = try await ChildProcess.runCapturing("/usr/bin/env", ["python3", script, Self.root.path, schema])
        #expect(result.status == 0, "\(result.output)\(result.errors)")
    }

    @Test func theConfigurationsTheyCarryLoad() throws {
        let compose = try String(contentsOf: Self.root.appendingPathComponent("deploy/compose/brain-gateway.yaml"), encoding: .utf8)
        let file = try ServiceFileLoader().load(yaml: compose)
        #expect(file.services.map(\.name.value) == ["ai-agents", "wagtail-cms", "django-crm", "notification"])
        #expect(file.workflows.map(\.definition.name.value) == ["contact-submit", "self-heal"])
        // The ConfigMap's embedded file: the block under `brain-gateway.yaml: |`, de-indented.
        let configMap = try String(contentsOf: Self.root.appendingPathComponent("deploy/kubernetes/configmap.yaml"), encoding: .utf8)
        let lines = configMap.split(separator: "\n", omittingEmptySubsequences: false)
        let start = try #require(lines.firstIndex { $0.trimmingCharacters(in: .whitespaces) == "brain-gateway.yaml: |" })
        let block = lines[(start + 1)...].prefix { $0.hasPrefix("    ") || $0.isEmpty }.map { $0.dropFirst(min(4, $0.count)) }
        let embedded = try ServiceFileLoader().load(yaml: block.joined(separator: "\n"))
        #expect(embedded.services.count == 4 && embedded.optimizer?.mode == .dryRun)
    }

    @Test func theImagesEntryPointStartsTheGatewayWithSecretsFromFiles() async throws {
        let entrypoint = Self.root.appendingPathComponent("deploy/docker-entrypoint.sh")
        let secretFile = NSTemporaryDirectory() + "jwt-secret-\(UUID().uuidString)"
        // A secret file as `echo` writes it: the trailing newline is not part of the key.
        try (TestTokens.secret + "\n").write(toFile: secretFile, atomically: true, encoding: .utf8)
        let gateway = try await GatewayProcess(
            yaml: "services: []", environment: ["BRAIN_GATEWAY_BIN": GatewayProcess.executable.path, "JWT_SECRET": "", "JWT_SECRET_FILE": secretFile],
            arguments: [entrypoint.path], executable: URL(fileURLWithPath: "/bin/sh"))
        try await withTeardown {
            // A platform-admin token signed with the file's key is accepted: the key came from it.
            let services = try await gateway.send("GET /api/brain/services HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", token: TestTokens.admin)
            #expect(services.status == 200, "\(services.text)")
            // SIGTERM reaches the gateway itself (the script exec'd it): it drains and exits 0.
            gateway.signal(SIGTERM)
            #expect(await gateway.waitForExit(timeout: .seconds(30)) == 0, "\(gateway.allErrorOutput())")
        } teardown: {
            await gateway.stop()
        }

        // A configuration or secret file that cannot be read: one line naming the variable.
        for (name, environment) in [
            ("BRAIN_GATEWAY_CONFIG", ["BRAIN_GATEWAY_CONFIG": "/nonexistent/brain-gateway.yaml"]),
            ("JWT_SECRET_FILE", ["JWT_SECRET_FILE": "/nonexistent/secret"]),
        ] {
            var env = ProcessInfo.processInfo.environment
            env["BRAIN_GATEWAY_BIN"] = GatewayProcess.executable.path
            for (k, v) in environment { env[k] = v }
            let result = try await ChildProcess.runCapturing("/bin/sh", [entrypoint.path], environment: env)
            #expect(result.status == 64 && result.errors == "docker-entrypoint: \(name): cannot read '\(environment.values.first ?? "")'\n", "\(result.errors)")
        }
        // `brainctl …` runs the admin CLI instead.
        var env = ProcessInfo.processInfo.environment
        env["BRAINCTL_BIN"] = BrainctlTests.binary
        let help = try await ChildProcess.runCapturing("/bin/sh", [entrypoint.path, "brainctl", "--help"], environment: env)
        #expect(help.status == 0 && help.output.contains("optimizer"), "\(help.errors)")
    }
}
