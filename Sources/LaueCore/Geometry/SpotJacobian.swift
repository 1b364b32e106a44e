import Foundation

extension SpotPredictor {
    /// How spot `hkl` moves on the detector under a small lattice rotation: the 2x3 Jacobian M with
    /// d(x, y) = M r for a rotation vector r (radians, LaueTools lab frame) applied as U' = R(r) U.
    /// Central finite differences of the exact projection (shared/notes/laue-physics.md 1.1).
    /// Rows are returned as (dx/dr, dy/dr).
    public func jacobian(_ hkl: HKL, orientation UB: Mat3, step: Double = 1e-6) -> (dx: Vec3, dy: Vec3)? {
        let q = UB * (material.B0 * hkl.vector)
        var dx = Vec3.zero, dy = Vec3.zero
        for axis in 0..<3 {
            var r = Vec3.zero
            r[axis] = step
            guard let (kp, _) = LaueScattering.scatter(q: Rotation.matrix(rotationVector: r) * q),
                  let (km, _) = LaueScattering.scatter(q: Rotation.matrix(rotationVector: -r) * q),
                  let p = calibration.pixel(kf: kp), let m = calibration.pixel(kf: km) else { return nil }
            dx[axis] = (p.x - m.x) / (2 * step)
            dy[axis] = (p.y - m.y) / (2 * step)
        }
        return (dx, dy)
    }
}
