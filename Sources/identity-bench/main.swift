// Measures the identity work the data plane does per request, in a release build:
// verifying an HS256 client token, and signing an ES256 X-Brain-Token (which the gateway
// caches per caller and service, so it pays the signature about once per four minutes each).
import BrainDomain
import BrainInfrastructure
import Crypto
import Foundation

func base64url(_ data: some DataProtocol) -> String {
    Data(data).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
}

let secret = "bench-secret-0123456789abcdef0123456789abcdef"
let header = base64url(Data(#"{"alg":"HS256","typ":"JWT"}"#.utf8))
let claims = base64url(Data(#"{"sub":"bench","tenant_id":"6f9619ff-8b86-d011-b42d-00c04fc964ff","roles":["reader"],"exp":\#(Int(Date().timeIntervalSince1970) + 3600)}"#.utf8))
let mac = HMAC<SHA256>.authenticationCode(for: Data("\(header).\(claims)".utf8), using: SymmetricKey(data: Data(secret.utf8)))
let token = Substring("\(header).\(claims).\(base64url(Data(mac)))")

let verifier = try await TokenVerifier.hs256(secret: secret)
let signer = ProofOfOriginSigner.generated()
let principal = Principal(subject: "bench", tenant: try TenantID("6f9619ff-8b86-d011-b42d-00c04fc964ff"), roles: ["reader"], expiresAt: 0)
let clock = ContinuousClock()

func nanoseconds(_ d: Duration, _ n: Int) -> Int {
    Int((Double(d.components.seconds) * 1e9 + Double(d.components.attoseconds) / 1e9) / Double(n))
}

let now = Date().timeIntervalSince1970
for _ in 0..<2_000 { _ = try verifier.verify(token, now: now) }
let verifyN = 100_000
let verifyTime = try clock.measure { for _ in 0..<verifyN { _ = try verifier.verify(token, now: now) } }
let signN = 5_000
let signTime = try clock.measure { for _ in 0..<signN { _ = try signer.sign(service: "svc", principal: principal, tenant: principal.tenant, now: now) } }
print("HS256 client token verified (signature + claims), per request: \(nanoseconds(verifyTime, verifyN)) ns")
print("ES256 X-Brain-Token signed (once per caller+service per ~4 min): \(nanoseconds(signTime, signN)) ns")
