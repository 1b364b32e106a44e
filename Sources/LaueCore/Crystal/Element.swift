import Foundation

/// A chemical element with its X-ray scattering factor.
///
/// Scattering factors use the four-Gaussian Cromer-Mann approximation with the coefficients of
/// International Tables for Crystallography Vol. C (1992), Table 6.1.1.4 (neutral atoms), valid for
/// sin(theta)/lambda < 2 per angstrom.
public struct Element: Hashable, Sendable, CustomStringConvertible {
    public let symbol: String
    public let atomicNumber: Int
    let a: (Double, Double, Double, Double)
    let b: (Double, Double, Double, Double)
    let c: Double

    public static func == (l: Element, r: Element) -> Bool { l.atomicNumber == r.atomicNumber }
    public func hash(into h: inout Hasher) { h.combine(atomicNumber) }
    public var description: String { symbol }

    /// Scattering factor f0 at s = sin(theta)/lambda (1/angstrom).
    public func scatteringFactor(s: Double) -> Double {
        let s2 = s * s
        return a.0 * exp(-b.0 * s2) + a.1 * exp(-b.1 * s2) + a.2 * exp(-b.2 * s2) + a.3 * exp(-b.3 * s2) + c
    }

    /// The element with this symbol (case-insensitive; a trailing charge such as "Co3+" is ignored).
    public static func named(_ symbol: String) throws -> Element {
        let letters = symbol.prefix { $0.isLetter }
        guard let e = table.first(where: { $0.symbol.lowercased() == letters.lowercased() }) else {
            throw LaueError(.invalidArgument, "unknown element \"\(symbol)\"")
        }
        return e
    }

    public static let table: [Element] = [
        Element(symbol: "H", atomicNumber: 1, a: (0.493002, 0.322912, 0.140191, 0.04081), b: (10.5109, 26.1257, 3.14236, 57.7997), c: 0.003038),
        Element(symbol: "He", atomicNumber: 2, a: (0.8734, 0.6309, 0.3112, 0.178), b: (9.1037, 3.3568, 22.9276, 0.9821), c: 0.0064),
        Element(symbol: "Li", atomicNumber: 3, a: (1.1282, 0.7508, 0.6175, 0.4653), b: (3.9546, 1.0524, 85.3905, 168.261), c: 0.0377),
        Element(symbol: "Be", atomicNumber: 4, a: (1.5919, 1.1278, 0.5391, 0.7029), b: (43.6427, 1.8623, 103.483, 0.542), c: 0.0385),
        Element(symbol: "B", atomicNumber: 5, a: (2.0545, 1.3326, 1.0979, 0.7068), b: (23.2185, 1.021, 60.3498, 0.1403), c: -0.1932),
        Element(symbol: "C", atomicNumber: 6, a: (2.31, 1.02, 1.5886, 0.865), b: (20.8439, 10.2075, 0.5687, 51.6512), c: 0.2156),
        Element(symbol: "N", atomicNumber: 7, a: (12.2126, 3.1322, 2.0125, 1.1663), b: (0.0057, 9.8933, 28.9975, 0.5826), c: -11.529),
        Element(symbol: "O", atomicNumber: 8, a: (3.0485, 2.2868, 1.5463, 0.867), b: (13.2771, 5.7011, 0.3239, 32.9089), c: 0.2508),
        Element(symbol: "F", atomicNumber: 9, a: (3.5392, 2.6412, 1.517, 1.0243), b: (10.2825, 4.2944, 0.2615, 26.1476), c: 0.2776),
        Element(symbol: "Ne", atomicNumber: 10, a: (3.9553, 3.1125, 1.4546, 1.1251), b: (8.4042, 3.4262, 0.2306, 21.7184), c: 0.3515),
        Element(symbol: "Na", atomicNumber: 11, a: (4.7626, 3.1736, 1.2674, 1.1128), b: (3.285, 8.8422, 0.3136, 129.424), c: 0.676),
        Element(symbol: "Mg", atomicNumber: 12, a: (5.4204, 2.1735, 1.2269, 2.3073), b: (2.8275, 79.2611, 0.3808, 7.1937), c: 0.8584),
        Element(symbol: "Al", atomicNumber: 13, a: (6.4202, 1.9002, 1.5936, 1.9646), b: (3.0387, 0.7426, 31.5472, 85.0886), c: 1.1151),
        Element(symbol: "Si", atomicNumber: 14, a: (6.2915, 3.0353, 1.9891, 1.541), b: (2.4386, 32.3337, 0.6785, 81.6937), c: 1.1407),
        Element(symbol: "P", atomicNumber: 15, a: (6.4345, 4.1791, 1.78, 1.4908), b: (1.9067, 27.157, 0.526, 68.1645), c: 1.1149),
        Element(symbol: "S", atomicNumber: 16, a: (6.9053, 5.2034, 1.4379, 1.5863), b: (1.4679, 22.2151, 0.2536, 56.172), c: 0.8669),
        Element(symbol: "Cl", atomicNumber: 17, a: (11.4604, 7.1964, 6.2556, 1.6455), b: (0.0104, 1.1662, 18.5194, 47.7784), c: -9.5574),
        Element(symbol: "Ar", atomicNumber: 18, a: (7.4845, 6.7723, 0.6539, 1.6442), b: (0.9072, 14.8407, 43.8983, 33.3929), c: 1.4445),
        Element(symbol: "K", atomicNumber: 19, a: (8.2186, 7.4398, 1.0519, 0.8659), b: (12.7949, 0.7748, 213.187, 41.6841), c: 1.4228),
        Element(symbol: "Ca", atomicNumber: 20, a: (8.6266, 7.3873, 1.5899, 1.0211), b: (10.4421, 0.6599, 85.7484, 178.437), c: 1.3751),
        Element(symbol: "Sc", atomicNumber: 21, a: (9.189, 7.3679, 1.6409, 1.468), b: (9.0213, 0.5729, 136.108, 51.3531), c: 1.3329),
        Element(symbol: "Ti", atomicNumber: 22, a: (9.7595, 7.3558, 1.6991, 1.9021), b: (7.8508, 0.5, 35.6338, 116.105), c: 1.2807),
        Element(symbol: "V", atomicNumber: 23, a: (10.2971, 7.3511, 2.0703, 2.0571), b: (6.8657, 0.4385, 26.8938, 102.478), c: 1.2199),
        Element(symbol: "Cr", atomicNumber: 24, a: (10.6406, 7.3537, 3.324, 1.4922), b: (6.1038, 0.392, 20.2626, 98.7399), c: 1.1832),
        Element(symbol: "Mn", atomicNumber: 25, a: (11.2819, 7.3573, 3.0193, 2.2441), b: (5.3409, 0.3432, 17.8674, 83.7543), c: 1.0896),
        Element(symbol: "Fe", atomicNumber: 26, a: (11.7695, 7.3573, 3.5222, 2.3045), b: (4.7611, 0.3072, 15.3535, 76.8805), c: 1.0369),
        Element(symbol: "Co", atomicNumber: 27, a: (12.2841, 7.3409, 4.0034, 2.3488), b: (4.2791, 0.2784, 13.5359, 71.1692), c: 1.0118),
        Element(symbol: "Ni", atomicNumber: 28, a: (12.8376, 7.292, 4.4438, 2.38), b: (3.8785, 0.2565, 12.1763, 66.3421), c: 1.0341),
        Element(symbol: "Cu", atomicNumber: 29, a: (13.338, 7.1676, 5.6158, 1.6735), b: (3.5828, 0.247, 11.3966, 64.8126), c: 1.191),
        Element(symbol: "Zn", atomicNumber: 30, a: (14.0743, 7.0318, 5.1652, 2.41), b: (3.2655, 0.2333, 10.3163, 58.7097), c: 1.3041),
        Element(symbol: "Ga", atomicNumber: 31, a: (15.2354, 6.7006, 4.3591, 2.9623), b: (3.0669, 0.2412, 10.7805, 61.4135), c: 1.7189),
        Element(symbol: "Ge", atomicNumber: 32, a: (16.0816, 6.3747, 3.7068, 3.683), b: (2.8509, 0.2516, 11.4468, 54.7625), c: 2.1313),
        Element(symbol: "As", atomicNumber: 33, a: (16.6723, 6.0701, 3.4313, 4.2779), b: (2.6345, 0.2647, 12.9479, 47.7972), c: 2.531),
        Element(symbol: "Se", atomicNumber: 34, a: (17.0006, 5.8196, 3.9731, 4.3543), b: (2.4098, 0.2726, 15.2372, 43.8163), c: 2.8409),
        Element(symbol: "Br", atomicNumber: 35, a: (17.1789, 5.2358, 5.6377, 3.9851), b: (2.1723, 16.5796, 0.2609, 41.4328), c: 2.9557),
        Element(symbol: "Kr", atomicNumber: 36, a: (17.3555, 6.7286, 5.5493, 3.5375), b: (1.9384, 16.5623, 0.2261, 39.3972), c: 2.825),
        Element(symbol: "Rb", atomicNumber: 37, a: (17.1784, 9.6435, 5.1399, 1.5292), b: (1.7888, 17.3151, 0.2748, 164.934), c: 3.4873),
        Element(symbol: "Sr", atomicNumber: 38, a: (17.5663, 9.8184, 5.422, 2.6694), b: (1.5564, 14.0988, 0.1664, 132.376), c: 2.5064),
        Element(symbol: "Y", atomicNumber: 39, a: (17.776, 10.2946, 5.72629, 3.26588), b: (1.4029, 12.8006, 0.125599, 104.354), c: 1.91213),
        Element(symbol: "Zr", atomicNumber: 40, a: (17.8765, 10.948, 5.41732, 3.65721), b: (1.27618, 11.916, 0.117622, 87.6627), c: 2.06929),
        Element(symbol: "Nb", atomicNumber: 41, a: (17.6142, 12.0144, 4.04183, 3.53346), b: (1.18865, 11.766, 0.204785, 69.7957), c: 3.75591),
        Element(symbol: "Mo", atomicNumber: 42, a: (3.7025, 17.2356, 12.8876, 3.7429), b: (0.2772, 1.0958, 11.004, 61.6584), c: 4.3875),
        Element(symbol: "Tc", atomicNumber: 43, a: (19.1301, 11.0948, 4.64901, 2.71263), b: (0.864132, 8.14487, 21.5707, 86.8472), c: 5.40428),
        Element(symbol: "Ru", atomicNumber: 44, a: (19.2674, 12.9182, 4.86337, 1.56756), b: (0.80852, 8.43467, 24.7997, 94.2928), c: 5.37874),
        Element(symbol: "Rh", atomicNumber: 45, a: (19.2957, 14.3501, 4.73425, 1.28918), b: (0.751536, 8.21758, 25.8749, 98.6062), c: 5.328),
        Element(symbol: "Pd", atomicNumber: 46, a: (19.3319, 15.5017, 5.29537, 0.605844), b: (0.698655, 7.98929, 25.2052, 76.8986), c: 5.26593),
        Element(symbol: "Ag", atomicNumber: 47, a: (19.2808, 16.6885, 4.8045, 1.0463), b: (0.6446, 7.4726, 24.6605, 99.8156), c: 5.179),
        Element(symbol: "Cd", atomicNumber: 48, a: (19.2214, 17.6444, 4.461, 1.6029), b: (0.5946, 6.9089, 24.7008, 87.4825), c: 5.0694),
        Element(symbol: "In", atomicNumber: 49, a: (19.1624, 18.5596, 4.2948, 2.0396), b: (0.5476, 6.3776, 25.8499, 92.8029), c: 4.9391),
        Element(symbol: "Sn", atomicNumber: 50, a: (19.1889, 19.1005, 4.4585, 2.4663), b: (5.8303, 0.5031, 26.8909, 83.9571), c: 4.7821),
        Element(symbol: "Sb", atomicNumber: 51, a: (19.6418, 19.0455, 5.0371, 2.6827), b: (5.3034, 0.4607, 27.9074, 75.2825), c: 4.5909),
        Element(symbol: "Te", atomicNumber: 52, a: (19.9644, 19.0138, 6.14487, 2.5239), b: (4.81742, 0.420885, 28.5284, 70.8403), c: 4.352),
        Element(symbol: "I", atomicNumber: 53, a: (20.1472, 18.9949, 7.5138, 2.2735), b: (4.347, 0.3814, 27.766, 66.8776), c: 4.0712),
        Element(symbol: "Xe", atomicNumber: 54, a: (20.2933, 19.0298, 8.9767, 1.99), b: (3.9282, 0.344, 26.4659, 64.2658), c: 3.7118),
        Element(symbol: "Cs", atomicNumber: 55, a: (20.3892, 19.1062, 10.662, 1.4953), b: (3.569, 0.3107, 24.3879, 213.904), c: 3.3352),
        Element(symbol: "Ba", atomicNumber: 56, a: (20.3361, 19.297, 10.888, 2.6959), b: (3.216, 0.2756, 20.2073, 167.202), c: 2.7731),
        Element(symbol: "La", atomicNumber: 57, a: (20.578, 19.599, 11.3727, 3.28719), b: (2.94817, 0.244475, 18.7726, 133.124), c: 2.14678),
        Element(symbol: "Ce", atomicNumber: 58, a: (21.1671, 19.7695, 11.8513, 3.33049), b: (2.81219, 0.226836, 17.6083, 127.113), c: 1.86264),
        Element(symbol: "Pr", atomicNumber: 59, a: (22.044, 19.6697, 12.3856, 2.82428), b: (2.77393, 0.222087, 16.7669, 143.644), c: 2.0583),
        Element(symbol: "Nd", atomicNumber: 60, a: (22.6845, 19.6847, 12.774, 2.85137), b: (2.66248, 0.210628, 15.885, 137.903), c: 1.98486),
        Element(symbol: "Pm", atomicNumber: 61, a: (23.3405, 19.6095, 13.1235, 2.87516), b: (2.5627, 0.202088, 15.1009, 132.721), c: 2.02876),
        Element(symbol: "Sm", atomicNumber: 62, a: (24.0042, 19.4258, 13.4396, 2.89604), b: (2.47274, 0.196451, 14.3996, 128.007), c: 2.20963),
        Element(symbol: "Eu", atomicNumber: 63, a: (24.6274, 19.0886, 13.7603, 2.9227), b: (2.3879, 0.1942, 13.7546, 123.174), c: 2.5745),
        Element(symbol: "Gd", atomicNumber: 64, a: (25.0709, 19.0798, 13.8518, 3.54545), b: (2.25341, 0.181951, 12.9331, 101.398), c: 2.4196),
        Element(symbol: "Tb", atomicNumber: 65, a: (25.8976, 18.2185, 14.3167, 2.95354), b: (2.24256, 0.196143, 12.6648, 115.362), c: 3.58324),
        Element(symbol: "Dy", atomicNumber: 66, a: (26.507, 17.6383, 14.5596, 2.96577), b: (2.1802, 0.202172, 12.1899, 111.874), c: 4.29728),
        Element(symbol: "Ho", atomicNumber: 67, a: (26.9049, 17.294, 14.5583, 3.63837), b: (2.07051, 0.19794, 11.4407, 92.6566), c: 4.56796),
        Element(symbol: "Er", atomicNumber: 68, a: (27.6563, 16.4285, 14.9779, 2.98233), b: (2.07356, 0.223545, 11.3604, 105.703), c: 5.92046),
        Element(symbol: "Tm", atomicNumber: 69, a: (28.1819, 15.8851, 15.1542, 2.98706), b: (2.02859, 0.238849, 10.9975, 102.961), c: 6.75621),
        Element(symbol: "Yb", atomicNumber: 70, a: (28.6641, 15.4345, 15.3087, 2.98963), b: (1.9889, 0.257119, 10.6647, 100.417), c: 7.56672),
        Element(symbol: "Lu", atomicNumber: 71, a: (28.9476, 15.2208, 15.1, 3.71601), b: (1.90182, 9.98519, 0.261033, 84.3298), c: 7.97628),
        Element(symbol: "Hf", atomicNumber: 72, a: (29.144, 15.1726, 14.7586, 4.30013), b: (1.83262, 9.5999, 0.275116, 72.029), c: 8.58154),
        Element(symbol: "Ta", atomicNumber: 73, a: (29.2024, 15.2293, 14.5135, 4.76492), b: (1.77333, 9.37046, 0.295977, 63.3644), c: 9.24354),
        Element(symbol: "W", atomicNumber: 74, a: (29.0818, 15.43, 14.4327, 5.11982), b: (1.72029, 9.2259, 0.321703, 57.056), c: 9.8875),
        Element(symbol: "Re", atomicNumber: 75, a: (28.7621, 15.7189, 14.5564, 5.44174), b: (1.67191, 9.09227, 0.3505, 52.0861), c: 10.472),
        Element(symbol: "Os", atomicNumber: 76, a: (28.1894, 16.155, 14.9305, 5.67589), b: (1.62903, 8.97948, 0.382661, 48.1647), c: 11.0005),
        Element(symbol: "Ir", atomicNumber: 77, a: (27.3049, 16.7296, 15.6115, 5.83377), b: (1.59279, 8.86553, 0.417916, 45.0011), c: 11.4722),
        Element(symbol: "Pt", atomicNumber: 78, a: (27.0059, 17.7639, 15.7131, 5.7837), b: (1.51293, 8.81174, 0.424593, 38.6103), c: 11.6883),
        Element(symbol: "Au", atomicNumber: 79, a: (16.8819, 18.5913, 25.5582, 5.86), b: (0.4611, 8.6216, 1.4826, 36.3956), c: 12.0658),
        Element(symbol: "Hg", atomicNumber: 80, a: (20.6809, 19.0417, 21.6575, 5.9676), b: (0.545, 8.4484, 1.5729, 38.3246), c: 12.6089),
        Element(symbol: "Tl", atomicNumber: 81, a: (27.5446, 19.1584, 15.538, 5.52593), b: (0.65515, 8.70751, 1.96347, 45.8149), c: 13.1746),
        Element(symbol: "Pb", atomicNumber: 82, a: (31.0617, 13.0637, 18.442, 5.9696), b: (0.6902, 2.3576, 8.618, 47.2579), c: 13.4118),
        Element(symbol: "Bi", atomicNumber: 83, a: (33.3689, 12.951, 16.5877, 6.4692), b: (0.704, 2.9238, 8.7937, 48.0093), c: 13.5782),
        Element(symbol: "Po", atomicNumber: 84, a: (34.6726, 15.4733, 13.1138, 7.02588), b: (0.700999, 3.55078, 9.55642, 47.0045), c: 13.677),
        Element(symbol: "At", atomicNumber: 85, a: (35.3163, 19.0211, 9.49887, 7.42518), b: (0.68587, 3.97458, 11.3824, 45.4715), c: 13.7108),
        Element(symbol: "Rn", atomicNumber: 86, a: (35.5631, 21.2816, 8.0037, 7.4433), b: (0.6631, 4.0691, 14.0422, 44.2473), c: 13.6905),
        Element(symbol: "Fr", atomicNumber: 87, a: (35.9299, 23.0547, 12.1439, 2.11253), b: (0.646453, 4.17619, 23.1052, 150.645), c: 13.7247),
        Element(symbol: "Ra", atomicNumber: 88, a: (35.763, 22.9064, 12.4739, 3.21097), b: (0.616341, 3.87135, 19.9887, 142.325), c: 13.6211),
        Element(symbol: "Ac", atomicNumber: 89, a: (35.6597, 23.1032, 12.5977, 4.08655), b: (0.589092, 3.65155, 18.599, 117.02), c: 13.5266),
        Element(symbol: "Th", atomicNumber: 90, a: (35.5645, 23.4219, 12.7473, 4.80703), b: (0.563359, 3.46204, 17.8309, 99.1722), c: 13.4314),
        Element(symbol: "Pa", atomicNumber: 91, a: (35.8847, 23.2948, 14.1891, 4.17287), b: (0.547751, 3.41519, 16.9235, 105.251), c: 13.4287),
        Element(symbol: "U", atomicNumber: 92, a: (36.0228, 23.4128, 14.9491, 4.188), b: (0.5293, 3.3253, 16.0927, 100.613), c: 13.3966),
        Element(symbol: "Np", atomicNumber: 93, a: (36.1874, 23.5964, 15.6402, 4.1855), b: (0.511929, 3.25396, 15.3622, 97.4908), c: 13.3573),
        Element(symbol: "Pu", atomicNumber: 94, a: (36.5254, 23.8083, 16.7707, 3.47947), b: (0.499384, 3.26371, 14.9455, 105.98), c: 13.3812),
        Element(symbol: "Am", atomicNumber: 95, a: (36.6706, 24.0992, 17.3415, 3.49331), b: (0.483629, 3.20647, 14.3136, 102.273), c: 13.3592),
        Element(symbol: "Cm", atomicNumber: 96, a: (36.6488, 24.4096, 17.399, 4.21665), b: (0.465154, 3.08997, 13.4346, 88.4834), c: 13.2887),
        Element(symbol: "Bk", atomicNumber: 97, a: (36.7881, 24.7736, 17.8919, 4.23284), b: (0.451018, 3.04619, 12.8946, 86.003), c: 13.2754),
        Element(symbol: "Cf", atomicNumber: 98, a: (36.9185, 25.1995, 18.3317, 4.24391), b: (0.437533, 3.00775, 12.4044, 83.7881), c: 13.2674),
    ]
}
