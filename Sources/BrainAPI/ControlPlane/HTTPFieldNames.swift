import HTTPTypes

/// The header fields the control plane names itself, made once. Each is a literal token, valid
/// by construction; a typo would stop the process at its first use, with the name, rather than
/// hide behind a force-unwrap.
extension HTTPField.Name {
    static let requestID = known("X-Request-ID")
    static let tenantID = known("X-Tenant-ID")
    static let brainRunID = known("X-Brain-Run-ID")
    static let brainAgentPattern = known("X-Brain-Agent-Pattern")
    static let idempotencyKey = known("Idempotency-Key")
    static let idempotentReplayed = known("Idempotent-Replayed")
    static let prefer = known("Prefer")
    static let preferenceApplied = known("Preference-Applied")
    static let traceparent = known("traceparent")
    static let accelBuffering = known("X-Accel-Buffering")

    private static func known(_ name: String) -> HTTPField.Name {
        guard let field = HTTPField.Name(name) else { preconditionFailure("'\(name)' is not a header field name") }
        return field
    }
}
