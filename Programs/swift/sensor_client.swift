// sensor_client.swift - example component in Embedded Swift using the
// session ABI (PhantomSession.swift): a client of the default system's
// "Sensor" service.
//
// usage: sensor_client [COUNT [PERIOD_MS]]   (defaults 10 and 500; COUNT 0 = forever)
//
// Opens "Sensor" (label "swift"), "Timer" and "LOG" (label "samples").
// COUNT times: waits PERIOD_MS on its Timer session, calls the sensor (an
// empty request: the valve stays where the controller left it) and sends
// "sample <reply>" to its LOG session. Then closes the sessions and prints
// "sensor_client: done N" on stdout (which the kernel also routes to LOG).
// An error prints "sensor_client: <what> failed: <code> (<name>)" and exits 1.

var samples: UInt64 = 0

// reply and log line buffers: statics (no allocator; zero-filled stack
// tuples this size would need memset, which there is no libc for)
typealias Bytes128 = (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
                      UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64)
var reply: Bytes128 = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
var line: Bytes128 = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)

func fail(_ what: StaticString, _ error: PhantomError) -> Never {
    put("sensor_client: "); put(what); put(" failed: ")
    let code = error.code
    putByte(45)   // '-'
    put(UInt64(UInt32(bitPattern: -code)))
    put(" ("); put(error.name); put(")")
    endLine()
    exit(1)
}

@_cdecl("_start")
public func start() {
    loadArguments()
    let count = numericArgument(1, 10)
    let periodMs = numericArgument(2, 500)

    let sensor: Session, timer: Session, log: Session
    do throws(PhantomError) { sensor = try Session.open("Sensor", label: "swift") } catch { fail("open Sensor", error) }
    do throws(PhantomError) { timer = try Session.open("Timer", label: "sampling") } catch { fail("open Timer", error) }
    do throws(PhantomError) { log = try Session.open("LOG", label: "samples") } catch { fail("open LOG", error) }

    while count == 0 || samples < count {
        do throws(PhantomError) { try timer.sleep(nanoseconds: periodMs &* 1_000_000) } catch { fail("Timer call", error) }
        withUnsafeMutableBytes(of: &reply) { replyBytes in
            withUnsafeMutableBytes(of: &line) { lineBytes in
                let got: Reply
                do throws(PhantomError) {
                    got = try sensor.call(emptyBytes(), reply: replyBytes)
                } catch { fail("Sensor call", error) }
                // "sample " + reply
                let prefix = bytes("sample ")
                var n = 0
                for b in prefix { lineBytes[n] = b; n += 1 }
                var i = 0
                while i < got.length && n < lineBytes.count { lineBytes[n] = replyBytes[i]; n += 1; i += 1 }
                do throws(PhantomError) {
                    try log.send(UnsafeRawBufferPointer(rebasing: lineBytes[0..<n]))
                } catch { fail("LOG call", error) }
            }
        }
        samples += 1
    }
    sensor.close()
    timer.close()
    log.close()
    put("sensor_client: done "); put(samples); endLine()
}
