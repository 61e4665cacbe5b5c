// Measures the identity work the data plane does per request, in a release build:
// verifying an HS256 client token, and signing an ES256 X-Brain-Token (which the gateway
// caches per caller and service, so it pays the signature about once per four minutes each);
// and the authentication stage itself for a JWT and for an opaque token answered by a real
// introspection endpoint on loopback (remembered on the connection, or from the shared cache).
import AsyncHTTPClient
import BrainApplication
import BrainAPI
import BrainDomain
import BrainInfrastructure
import Crypto
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

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

// The authentication stage: JWT and opaque tokens, on a kept-alive connection (remembered) and
// on a new one. The opaque token is introspected once, over loopback, then served from cache.
final class IntrospectionEndpoint: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .end = unwrapInboundIn(data) else { return }
        let body = ByteBuffer(string: #"{"active": true, "sub": "bench", "tenant_id": "6f9619ff-8b86-d011-b42d-00c04fc964ff", "roles": ["reader"], "exp": \#(Int(Date().timeIntervalSince1970) + 3600)}"#)
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Content-Length", value: String(body.readableBytes))
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }
}
let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
    .childChannelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.configureHTTPServerPipeline()
            try channel.pipeline.syncOperations.addHandler(IntrospectionEndpoint())
        }
    }
    .bind(host: "127.0.0.1", port: 0).get()
let client = HTTPClient(eventLoopGroupProvider: .singleton)
let introspector = TokenIntrospector(
    settings: .init(IntrospectionSettings(url: "http://127.0.0.1:\(server.localAddress?.port ?? 0)/introspect")), client: client,
    logger: Logger(label: "bench"))
let authentication = Authentication(verifier: verifier, publicPaths: [], introspector: introspector)
let opaque = "opaque-0123456789abcdef0123456789abcdef"
_ = await authentication.authenticate(authorization: "Bearer " + opaque, now: now)
guard introspector.callCount == 1, introspector.cached(opaque, now: now) != nil else { fatalError("introspection did not answer") }

func stage(_ authorization: String, remember: Bool, _ n: Int) -> Int {
    var remembered: Authentication.RememberedToken?
    var admitted = 0
    let time = clock.measure {
        for _ in 0..<n {
            if !remember { remembered = nil }
            if case .authenticated = authentication.authenticate(authorization: authorization, now: now, remembered: &remembered) { admitted += 1 }
        }
    }
    precondition(admitted == n)
    return nanoseconds(time, n)
}
let stageN = 200_000
let jwtHeader = "Bearer " + String(token)
let opaqueHeader = "Bearer " + opaque
_ = stage(jwtHeader, remember: true, 10_000)
_ = stage(opaqueHeader, remember: true, 10_000)
print("authentication stage, JWT remembered on the connection: \(stage(jwtHeader, remember: true, stageN)) ns")
print("authentication stage, opaque token remembered on the connection: \(stage(opaqueHeader, remember: true, stageN)) ns")
print("authentication stage, JWT on a new connection (full verification): \(stage(jwtHeader, remember: false, stageN / 10)) ns")
print("authentication stage, opaque token on a new connection (introspection cache): \(stage(opaqueHeader, remember: false, stageN)) ns")
print("introspection calls made: \(introspector.callCount)")
try await client.shutdown().get()
try await server.close().get()
