import Foundation
import Testing
import LaueCore

@Suite struct GeometryTests {
    let marccd = DetectorCalibration(distance: 70.775, xcen: 941.74, ycen: 1082.56, xbet: 0.63, xgam: -0.682,
                                     pixelSize: 0.079142, width: 2048, height: 2048)

    @Test func pixelAnglesRoundTrip() {
        for x in stride(from: 10.0, to: 2048, by: 97.3) {
            for y in stride(from: 5.0, to: 2048, by: 113.7) {
                let (tth, chi) = marccd.angles(x: x, y: y)
                let p = marccd.pixel(twoTheta: tth, chi: chi)!
                #expect(abs(p.x - x) < 1e-9 && abs(p.y - y) < 1e-9)
            }
        }
    }

    @Test func detectorCentreIsNearTwoTheta90() {
        // With small tilts the detector centre lies near 2theta = 90 deg, chi = 0.
        let (tth, chi) = marccd.angles(x: marccd.xcen, y: marccd.ycen)
        #expect(abs(tth - 90) < 1)
        #expect(abs(chi) < 1)
    }

    @Test func knownSpotFromLaueToolsFit() throws {
        // Ge_blanc_0000_LT_5.fit, spot 0: hkl 4 2 2 -> X 623.07121, Y 1657.7552, 2theta 58.42857,
        // chi 20.13102, E 10.99801 keV (the .fit header rounds the detector parameters).
        let ub = Mat3([[-0.071476709, -0.99582593, -0.056760883], [0.720618491, -0.012210383, -0.693224276],
                       [0.689637637, -0.090452332, 0.718483337]])
        let predictor = try SpotPredictor(material: Material.builtin("Ge"), calibration: marccd)
        let spot = try #require(predictor.spot(HKL(4, 2, 2), orientation: ub))
        #expect(abs(spot.x - 623.07121) < 0.05 && abs(spot.y - 1657.7552) < 0.05)
        #expect(abs(spot.twoTheta - 58.42857) < 0.01 && abs(spot.chi - 20.13102) < 0.01)
        #expect(abs(spot.energy - 10.99801) < 0.01)
    }

    @Test func harmonicsAreReportedOnceAtTheLowestAllowedOrder() throws {
        let ub = Mat3([[-0.071476709, -0.99582593, -0.056760883], [0.720618491, -0.012210383, -0.693224276],
                       [0.689637637, -0.090452332, 0.718483337]])
        let predictor = try SpotPredictor(material: Material.builtin("Ge"), calibration: marccd, energyRange: 5...22)
        let spots = predictor.spots(orientation: ub)
        #expect(spots.count > 50)
        var directions = Set<HKL>()
        for s in spots {
            #expect(directions.insert(s.hkl.primitive.hkl).inserted, "two spots along \(s.hkl)")
            #expect(s.energy >= 5 && s.energy <= 22)
            #expect(predictor.material.isAllowed(s.hkl))
            // No lower order of this direction is allowed inside the band.
            for n in 1..<s.order where Double(n) * s.energy / Double(s.order) >= 5 {
                #expect(!predictor.material.isAllowed(n * s.hkl.primitive.hkl))
            }
        }
        #expect(spots.contains { $0.hkl == HKL(3, 3, 3) })   // 111 is below 5 keV, 222 forbidden
    }

    @Test func scatteringAgreesWithBraggLaw() {
        let q = Vec3(-0.2, 0.1, 0.3)
        let (kf, e) = LaueScattering.scatter(q: q)!
        #expect(abs(kf.length - 1) < 1e-12)
        let lambda = LaueScattering.hc / e
        let theta = LaueScattering.theta(q: q) * .pi / 180
        #expect(abs(2 * (1 / q.length) * sin(theta) - lambda) < 1e-12)
        #expect((LaueScattering.qDirection(kf: kf) - q.normalized).length < 1e-12)
        #expect(LaueScattering.scatter(q: Vec3(0.1, 0, 0.2)) == nil)
    }
}
