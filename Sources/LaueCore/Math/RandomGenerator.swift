import Foundation

/// A small, fast, seedable generator (xoshiro256**, Blackman & Vigna 2018) so that every simulated
/// pattern and scan is reproducible from a seed, whatever the thread that produces it.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var s0, s1, s2, s3: UInt64
    /// The second deviate of the last polar-method pair.
    private var spare: Double? = nil

    public init(seed: UInt64) {
        // Expand the seed with SplitMix64, as the authors recommend.
        var z = seed
        func splitmix() -> UInt64 {
            z &+= 0x9E37_79B9_7F4A_7C15
            var x = z
            x = (x ^ (x >> 30)) &* 0xBF58_476D_1CE4_E5B9
            x = (x ^ (x >> 27)) &* 0x94D0_49BB_1331_11EB
            return x ^ (x >> 31)
        }
        s0 = splitmix(); s1 = splitmix(); s2 = splitmix(); s3 = splitmix()
    }

    /// A generator for item `index` of a stream seeded by `seed` (independent of processing order).
    public init(seed: UInt64, stream index: UInt64) {
        self.init(seed: seed ^ (index &* 0xD6E8_FEB8_6659_FD93 &+ 0x2545_F491_4F6C_DD1D))
    }

    @inlinable static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    public mutating func next() -> UInt64 {
        let result = SeededGenerator.rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = SeededGenerator.rotl(s3, 45)
        return result
    }

    /// Uniform in [0, 1).
    public mutating func uniform() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// Standard normal deviate (Marsaglia's polar method: no trigonometry, two deviates per pair).
    public mutating func normal() -> Double {
        if let s = spare { spare = nil; return s }
        while true {
            let u = 2 * uniform() - 1, v = 2 * uniform() - 1
            let r = u * u + v * v
            if r > 0 && r < 1 {
                let f = (-2 * log(r) / r).squareRoot()
                spare = v * f
                return u * f
            }
        }
    }

    /// Poisson deviate with mean `lambda` (exact by multiplication below 30, normal approximation above).
    public mutating func poisson(_ lambda: Double) -> Double {
        if !(lambda > 0) { return 0 }
        if lambda < 30 {
            let limit = exp(-lambda)
            var k = 0.0, p = uniform()
            while p > limit { k += 1; p *= uniform() }
            return k
        }
        return max(0, (lambda + lambda.squareRoot() * normal()).rounded())
    }

    /// A detector reading of mean `mean` (detector units): Poisson photon noise at `gain` units per
    /// photon plus Gaussian read noise. Above 30 photons the two are drawn as one normal deviate.
    public mutating func detectorReading(mean: Double, gain: Double, readNoise: Double) -> Double {
        let photons = mean / gain
        if photons >= 30 {
            return mean + (mean * gain + readNoise * readNoise).squareRoot() * normal()
        }
        let v = poisson(photons) * gain
        return readNoise > 0 ? v + readNoise * normal() : v
    }
}
