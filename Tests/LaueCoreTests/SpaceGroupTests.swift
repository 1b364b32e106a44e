import Testing
import LaueCore

/// Order of the point group of each space-group number range (ITA classes).
private func pointGroupOrder(_ n: Int) -> Int {
    switch n {
    case 1: return 1
    case 2: return 2
    case 3...9: return 2
    case 10...15: return 4
    case 16...46: return 4
    case 47...74: return 8
    case 75...82: return 4
    case 83...88: return 8
    case 89...122: return 8
    case 123...142: return 16
    case 143...146: return 3
    case 147...148: return 6
    case 149...161: return 6
    case 162...167: return 12
    case 168...174: return 6
    case 175...176: return 12
    case 177...190: return 12
    case 191...194: return 24
    case 195...199: return 12
    case 200...206: return 24
    case 207...230: return 24 * ((207...214).contains(n) || (215...220).contains(n) ? 1 : 2)
    default: return 0
    }
}

private func centringMultiplicity(_ hm: String) -> Int {
    switch hm.first! {
    case "P": return 1
    case "A", "B", "C", "I": return 2
    case "R": return 3
    case "F": return 4
    default: return 0
    }
}

@Suite struct SpaceGroupTests {
    @Test func all230ReferenceSettingsParseWithTheRightOrder() throws {
        for n in 1...230 {
            let sg = try SpaceGroup(number: n)
            #expect(sg.pointGroupRotations.count == pointGroupOrder(n), "group \(n) \(sg.hermannMauguin)")
            #expect(sg.operations.count == pointGroupOrder(n) * centringMultiplicity(sg.hermannMauguin),
                    "group \(n) \(sg.hermannMauguin)")
        }
    }

    @Test func operationsFormAGroup() throws {
        for n in [14, 62, 152, 166, 178, 186, 194, 227, 230] {
            let sg = try SpaceGroup(number: n)
            let set = Set(sg.operations)
            for a in sg.operations { for b in sg.operations { #expect(set.contains(a * b), "group \(n)") } }
        }
    }

    @Test func knownOperationsAppear() throws {
        // P 31 1 2 (No. 151) contains -y,-x,-z+2/3 (ITA), which needs the Hall origin shift.
        let p3112 = try SpaceGroup(number: 151)
        #expect(p3112.operations.map(\.description).contains("-y,-x,-z+2/3"))
        // Fd-3m origin choice 2 is centrosymmetric at the origin.
        #expect(try SpaceGroup(number: 227).isCentrosymmetric)
        #expect(try !SpaceGroup(number: 216).isCentrosymmetric)
        // R-3m (hexagonal axes) holds the obverse centring (2/3, 1/3, 1/3).
        #expect(try SpaceGroup(number: 166).operations.map(\.description).contains("x+2/3,y+1/3,z+1/3"))
    }

    @Test func lookupByName() throws {
        #expect(try SpaceGroup.named("Fd-3m").number == 227)
        #expect(try SpaceGroup.named("R -3 m").number == 166)
        #expect(try SpaceGroup.named("P6_3mc").number == 186)
        #expect(try SpaceGroup.named("P21/c").number == 14)
        #expect(try SpaceGroup.named("225").number == 225)
        #expect(try SpaceGroup.named("-I 4 2 3").number == 229)
        #expect(throws: LaueError.self) { try SpaceGroup.named("Q 7") }
        #expect(throws: LaueError.self) { try SpaceGroup(number: 231) }
    }

    @Test func laueClasses() throws {
        #expect(try SpaceGroup(number: 227).laueClass == "m-3m")
        #expect(try SpaceGroup(number: 216).laueClass == "m-3m")
        #expect(try SpaceGroup(number: 166).laueClass == "-3m")
        #expect(try SpaceGroup(number: 186).laueClass == "6/mmm")
        #expect(try SpaceGroup(number: 166).laueProperRotations.count == 6)
        #expect(try SpaceGroup(number: 186).laueProperRotations.count == 12)
        #expect(try SpaceGroup(number: 225).laueProperRotations.count == 24)
    }

    @Test func equivalentPositions() throws {
        let fd3m = try SpaceGroup(number: 227)
        #expect(fd3m.equivalentPositions(of: Vec3(0.125, 0.125, 0.125)).count == 8)   // 8a
        let r3m = try SpaceGroup(number: 166)
        #expect(r3m.equivalentPositions(of: Vec3(0, 0, 0)).count == 3)                 // 3a
        #expect(r3m.equivalentPositions(of: Vec3(0, 0, 0.2396)).count == 6)            // 6c
    }
}
