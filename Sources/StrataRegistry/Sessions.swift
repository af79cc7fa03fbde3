import Foundation
import Hummingbird
import NIOCore
import StrataCore

/// The request context of the registry's routes: Hummingbird's basic one
/// plus the peer's address, which the backoff on failed authentication
/// keys on.
package struct RegistryContext: RequestContext, RemoteAddressRequestContext {
    package var coreContext: CoreRequestContextStorage
    package let remoteAddress: SocketAddress?

    package init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    /// The client as the backoff counts it: its IP address (a proxy in
    /// front of the registry counts as one client).
    var client: String { remoteAddress?.ipAddress ?? "unknown" }
}

/// Who signed in at /ui/login: a random id per sign-in, kept here and never
/// the token itself, so a captured cookie is no API token, stops working
/// at logout, and expires. Sessions live in this registry process (several
/// processes behind one address need the balancer to keep a reader on one,
/// or the reader signs in again).
final class SessionTable: @unchecked Sendable {
    private let lock = NSLock()
    private var byHash: [String: (who: Identity, expires: ContinuousClock.Instant)] = [:]
    let lifetime: Duration

    init(lifetime: Duration = .seconds(12 * 3600)) { self.lifetime = lifetime }

    /// A new session's id: 32 random bytes from the system's generator, in hex.
    func open(for who: Identity) -> String {
        var generator = SystemRandomNumberGenerator()
        let id = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: .min ... .max, using: &generator)) }.joined()
        let now = ContinuousClock.now
        lock.withLock {
            byHash = byHash.filter { $0.value.expires > now }
            byHash[Event.hash(bytes: Array(id.utf8))] = (who, now + lifetime)
        }
        return id
    }

    func identity(of id: String) -> Identity? {
        let key = Event.hash(bytes: Array(id.utf8))
        return lock.withLock {
            guard let s = byHash[key] else { return nil }
            guard s.expires > ContinuousClock.now else { byHash[key] = nil; return nil }
            return s.who
        }
    }

    func close(_ id: String) {
        let key = Event.hash(bytes: Array(id.utf8))
        _ = lock.withLock { byHash.removeValue(forKey: key) }
    }

    var count: Int { lock.withLock { byHash.count } }
}

/// Slows down a client that keeps presenting unknown tokens (API or login
/// form): after `allowed` failures, each further one locks the client out
/// for twice as long as the last (1 s, 2 s, … up to `longest`), every
/// attempt refused with 429 while it lasts, even a right token (else the
/// answer itself would tell a guess that hit). A client with no failure for
/// `forgetAfter` starts afresh.
final class AuthBackoff: @unchecked Sendable {
    private let lock = NSLock()
    private var clients: [String: (failures: Int, until: ContinuousClock.Instant, last: ContinuousClock.Instant)] = [:]
    let allowed: Int
    let longest: Duration
    let forgetAfter: Duration

    init(allowed: Int = 10, longest: Duration = .seconds(60), forgetAfter: Duration = .seconds(900)) {
        self.allowed = allowed
        self.longest = longest
        self.forgetAfter = forgetAfter
    }

    /// Whole seconds the client must wait, or nil when it may try.
    func wait(for client: String) -> Int? {
        let now = ContinuousClock.now
        return lock.withLock {
            guard let c = clients[client], c.until > now else { return nil }
            let left = (c.until - now).components
            return Int(left.seconds) + (left.attoseconds > 0 ? 1 : 0)
        }
    }

    func failed(_ client: String) {
        let now = ContinuousClock.now
        lock.withLock {
            if clients.count > 10_000 { clients = clients.filter { now - $0.value.last < forgetAfter } }
            var c = clients[client].flatMap { now - $0.last < forgetAfter ? $0 : nil } ?? (failures: 0, until: now, last: now)
            c.failures += 1
            c.last = now
            if c.failures > allowed {
                let doubling = min(c.failures - allowed - 1, 16)
                c.until = now + min(.seconds(1 << doubling), longest)
            }
            clients[client] = c
        }
    }
}

/// Form POSTs to /ui come only from the registry's own pages: a browser
/// says where a request comes from (Sec-Fetch-Site, which no page can set,
/// else Origin), and one from another site is refused, so no other page
/// can sign a reader in or out. A client that says neither is not a
/// browser, and no reader's cookie rides along with it.
func isSameOrigin(_ request: Request) -> Bool {
    if let site = request.headers[.init("Sec-Fetch-Site")!] { return site == "same-origin" || site == "none" }
    guard let origin = request.headers[.origin] else { return true }
    let host = request.headers[.init("X-Forwarded-Host")!] ?? request.head.authority
    guard let host, let url = URL(string: origin), let originHost = url.host else { return false }
    return (url.port.map { "\(originHost):\($0)" } ?? originHost).lowercased() == host.lowercased()
}
