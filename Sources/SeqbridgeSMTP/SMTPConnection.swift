import NIOCore
import NIOPosix
import NIOSSL

/// One reply from the server: the code and its lines (without the code).
public struct SMTPReply: Sendable, Equatable, CustomStringConvertible {
    public var code: Int
    public var lines: [String]

    /// The text as the server wrote it, lines joined with spaces: `550 5.1.1 <x@y>: user unknown`.
    public var description: String { "\(code) " + lines.joined(separator: " ") }

    public var isPositive: Bool { code >= 200 && code < 400 }
    public var isTransient: Bool { code >= 400 && code < 500 }
    public var isPermanent: Bool { code >= 500 }
}

/// Why talking to the server failed, before any reply could say so.
public enum SMTPConnectionError: Error, Sendable, CustomStringConvertible {
    case connect(String)
    case timeout(String)
    case closed(String)
    case tls(String)
    case protocolViolation(String)

    public var description: String {
        switch self {
        case .connect(let why): "could not connect: \(why)"
        case .timeout(let what): "no answer in time to \(what)"
        case .closed(let what): "the server closed the connection during \(what)"
        case .tls(let why): "TLS failed: \(why)"
        case .protocolViolation(let why): "the server's answer cannot be read: \(why)"
        }
    }
}

/// Splits the server's bytes into replies and hands each to whoever waits for it, in order.
/// Its state is touched only on its channel's event loop (reads, and `nextReply`/`fail`
/// through `eventLoop.flatSubmit` or scheduled tasks), which is what makes it safe to share.
final class SMTPReplyHandler: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer

    private var pending: [UInt8] = []
    private var lines: [String] = []
    private var replies: CircularBuffer<SMTPReply> = []
    private var waiting: CircularBuffer<EventLoopPromise<SMTPReply>> = []
    private var failure: SMTPConnectionError?

    /// A promise for the next reply (on the event loop).
    func nextReply(on loop: EventLoop) -> EventLoopFuture<SMTPReply> {
        if let reply = replies.popFirst() { return loop.makeSucceededFuture(reply) }
        if let failure { return loop.makeFailedFuture(failure) }
        let promise = loop.makePromise(of: SMTPReply.self)
        waiting.append(promise)
        return promise.futureResult
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        pending.append(contentsOf: buffer.readBytes(length: buffer.readableBytes) ?? [])
        while let newline = pending.firstIndex(of: 10) {
            var line = Array(pending[..<newline])
            pending.removeSubrange(...newline)
            if line.last == 13 { line.removeLast() }
            guard line.count >= 3, let code = Int(String(decoding: line.prefix(3), as: UTF8.self)) else {
                fail(.protocolViolation(String(decoding: line.prefix(200), as: UTF8.self)))
                context.close(promise: nil)
                return
            }
            let text = line.count > 4 ? String(decoding: line[4...], as: UTF8.self) : ""
            lines.append(text)
            if line.count == 3 || line[3] != UInt8(ascii: "-") {
                deliver(SMTPReply(code: code, lines: lines))
                lines = []
            }
        }
        if pending.count > 64 * 1024 {
            fail(.protocolViolation("a reply line longer than 64 KiB"))
            context.close(promise: nil)
        }
    }

    private func deliver(_ reply: SMTPReply) {
        if let promise = waiting.popFirst() {
            promise.succeed(reply)
        } else {
            replies.append(reply)
        }
    }

    func fail(_ error: SMTPConnectionError) {
        if failure == nil { failure = error }
        while let promise = waiting.popFirst() { promise.fail(failure!) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(.closed("the conversation"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if let tls = error as? NIOSSLError {
            fail(.tls("\(tls)"))
        } else if let tls = error as? BoringSSLError {
            fail(.tls("\(tls)"))
        } else {
            fail(.closed("\(error)"))
        }
        context.close(promise: nil)
    }
}

/// A TCP connection to an SMTP server: commands written, replies awaited with a deadline.
final class SMTPConnection: @unchecked Sendable {
    let channel: Channel
    private let handler: SMTPReplyHandler

    private init(channel: Channel, handler: SMTPReplyHandler) {
        self.channel = channel
        self.handler = handler
    }

    static func connect(
        host: String, port: Int, tls: NIOSSLContext?, serverName: String?, timeout: TimeAmount,
        group: EventLoopGroup
    ) async throws -> SMTPConnection {
        let handler = SMTPReplyHandler()
        do {
            let channel = try await ClientBootstrap(group: group)
                .connectTimeout(timeout)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if let tls {
                            try channel.pipeline.syncOperations.addHandler(
                                try NIOSSLClientHandler(context: tls, serverHostname: serverName))
                        }
                        try channel.pipeline.syncOperations.addHandler(handler)
                    }
                }
                .connect(host: host, port: port).get()
            return SMTPConnection(channel: channel, handler: handler)
        } catch let error as SMTPConnectionError {
            throw error
        } catch {
            throw SMTPConnectionError.connect("\(host):\(port): \(error)")
        }
    }

    /// Writes `bytes` (if any) and waits for `count` replies, all within `timeout`.
    func exchange(_ bytes: [UInt8]?, replies count: Int, timeout: TimeAmount, what: String) async throws
        -> [SMTPReply]
    {
        let channel = self.channel
        let handler = self.handler
        let future: EventLoopFuture<[SMTPReply]> = channel.eventLoop.flatSubmit {
            let loop = channel.eventLoop
            let futures = (0..<count).map { _ in handler.nextReply(on: loop) }
            if let bytes {
                var buffer = channel.allocator.buffer(capacity: bytes.count)
                buffer.writeBytes(bytes)
                channel.writeAndFlush(buffer, promise: nil)
            }
            let deadline = loop.scheduleTask(in: timeout) {
                handler.fail(.timeout(what))
                channel.close(promise: nil)
            }
            let all = EventLoopFuture.whenAllSucceed(futures, on: loop)
            all.whenComplete { _ in deadline.cancel() }
            return all
        }
        return try await future.get()
    }

    /// Starts TLS on the open connection (after a 220 to STARTTLS).
    func startTLS(_ context: NIOSSLContext, serverName: String?) async throws {
        let channel = self.channel
        try await channel.eventLoop.flatSubmit {
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(
                    try NIOSSLClientHandler(context: context, serverHostname: serverName), position: .first)
            }
        }.get()
    }

    func close() async {
        try? await channel.close().get()
    }
}
