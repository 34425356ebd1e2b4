// counter.swift - Embedded Swift twin of Programs/c/counter.c.
//
// usage: counter_swift [MAX [EVERY [SLOW]]]
//   MAX    stop after MAX increments (0 or absent = forever)
//   EVERY  print "count N" every EVERY increments (default 1000)
//   SLOW   xorshift busy-work rounds per increment (default 0)
// Prints "count N" lines, then "done N" when MAX is reached.
//
// Invariant: N = EVERY, 2*EVERY, ... strictly increasing, no gaps or
// repeats across kill -9/resume. The counter is kept in two globals with
// independent running hashes and cross-checked; divergence prints
// "MISMATCH ..." and exits 1.

var counter: UInt64 = 0
var shadowCounter: UInt64 = 0
var hashA: UInt64 = 0
var hashB: UInt64 = 0

@inline(never)
func mix(_ h: UInt64, _ v: UInt64) -> UInt64 {
    return h ^ (v &+ 0x9e37_79b9_7f4a_7c15 &+ (h << 6) &+ (h >> 2))
}

@_cdecl("_start")
public func start() {
    loadArguments()
    let max = numericArgument(1, 0)
    var every = numericArgument(2, 1000)
    let slow = numericArgument(3, 0)
    if every == 0 { every = 1 }

    var busy: UInt64 = 88_172_645_463_325_252
    while true {
        let c = counter &+ 1
        counter = c
        shadowCounter = c
        hashA = mix(hashA, c)
        hashB = mix(hashB, shadowCounter)
        var i: UInt64 = 0
        while i < slow {
            busy ^= busy << 13; busy ^= busy >> 7; busy ^= busy << 17
            i += 1
        }
        if shadowCounter != counter || hashA != hashB {
            put("MISMATCH counter="); put(counter); put(" shadow="); put(shadowCounter)
            endLine()
            exit(1)
        }
        if c % every == 0 {
            put("count "); put(c); endLine()
        }
        if max != 0 && c >= max { break }
    }
    put("done "); put(counter)
    if busy == 0 { put(" busy0") }
    endLine()
}
