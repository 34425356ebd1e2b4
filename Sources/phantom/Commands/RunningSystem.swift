import Foundation
import PhantomKernel
import PhantomStore

/// How the commands reach a system that `phantom boot` runs: through its
/// control socket beside the image (`IMAGE.sock`, docs/CONTROL.md), since the
/// running system holds the image itself under the exclusive lock.
enum RunningSystem {
    /// Connects to the system running on `image`; without one, fails with
    /// "no system is running on IMAGE (no IMAGE.sock); start one with …".
    static func connect(_ image: String) throws -> ControlClient {
        do {
            return try ControlClient(image: image)
        } catch let error as ControlClientError {
            throw CommandFailure("\(error)")
        }
    }

    /// The connection to the system running on `image`, or nil when none runs
    /// (no socket, or one left by a process that is gone): for the commands
    /// that then work on the image itself.
    static func connectIfRunning(_ image: String) throws -> ControlClient? {
        do {
            return try ControlClient(image: image)
        } catch ControlClientError.notRunning {
            return nil
        } catch let error as ControlClientError {
            throw CommandFailure("\(error)")
        }
    }

    /// Sends `request` and returns its reply; an error reply or a failed
    /// exchange is the command's failure.
    static func call(_ client: ControlClient, _ request: ControlRequest, timeout: TimeInterval? = 60) throws -> ControlReply {
        do {
            return try client.call(request, timeout: timeout)
        } catch let error as ControlClientError {
            throw CommandFailure("\(error)")
        }
    }

    /// After a stop or rollback request was accepted: waits for the reply the
    /// system sends as it stops (nil if it closed without one), then until it
    /// has exited — its socket gone and its image no longer locked.
    static func awaitStop(_ client: ControlClient, image: String, timeout: Duration) throws -> ControlReply? {
        let deadline = DispatchTime.now().uptimeNanoseconds + timeout.nanoseconds
        func remaining() -> TimeInterval {
            let now = DispatchTime.now().uptimeNanoseconds
            return now >= deadline ? 0.001 : TimeInterval(deadline - now) / 1e9
        }
        var reply: ControlReply?
        do {
            reply = try client.receive(timeout: remaining())
        } catch ControlClientError.timedOut {
            throw CommandFailure("the system on \(image) has not stopped within \(timeout)")
        } catch {
            reply = nil
        }
        client.close()
        if let reply, !reply.ok {
            throw CommandFailure(reply.error ?? "the system refused to stop")
        }
        while !hasExited(image) {
            guard remaining() > 0.001 else {
                throw CommandFailure("the system on \(image) answered but has not exited within \(timeout) (it still holds the image)")
            }
            usleep(20_000)
        }
        return reply
    }

    /// Whether nothing serves `image` any more: no socket that answers, and
    /// no writer holding the image's lock.
    static func hasExited(_ image: String) -> Bool {
        if (try? ControlClient(image: image)) != nil { return false }
        do {
            _ = try FileBlockDevice(path: image, access: .shared)
            return true
        } catch let error as StoreError {
            if case .imageInUse = error { return false }
            return true
        } catch {
            return true
        }
    }
}

/// Prints generations, newest first, as `phantom image generations` does.
func printGenerations(_ generations: [GenerationSummary]) {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    print("generation  committed                   pages      written")
    for record in generations {
        let date = Date(timeIntervalSince1970: Double(record.timestamp) / 1e9)
        let mark = record.current ? " (current)" : ""
        let columns = [
            String(record.generation).padding(toLength: 11, withPad: " ", startingAt: 0),
            formatter.string(from: date).padding(toLength: 27, withPad: " ", startingAt: 0),
            String(record.pages).padding(toLength: 10, withPad: " ", startingAt: 0),
            formatBytes(record.writtenBytes),
        ]
        print(columns.joined(separator: " ") + mark)
    }
}
