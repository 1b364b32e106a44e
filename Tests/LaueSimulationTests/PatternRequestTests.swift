import Foundation
import Testing
import LaueCore
import LaueIO
import LaueSimulation

/// What a simulation request and a material list refuse (review of issue 15/16): a matrix that is no
/// rotation, an empty material name between commas.
@Suite struct PatternRequestTests {
    @Test func orientationMatrixMustBeARotation() throws {
        for matrix in [[Double](repeating: 0, count: 9), [1, 0, 0, 0, 1, 0, 0, 0, -1], [0.1, 0, 0, 0, 1, 0, 0, 0, 1]] {
            let r = try PatternRequest(json: "{\"matrix\": \(matrix)}")
            #expect { try r.orientation() } throws: { "\($0)".contains("determinant") }
        }
        // A rotation, and one with 2 % strain, are fine.
        let c = cos(0.3), s = sin(0.3)
        #expect(try PatternRequest(json: "{\"matrix\": [\(c), \(-s), 0, \(s), \(c), 0, 0, 0, 1]}").orientation().determinant > 0.99)
        #expect(throws: Never.self) { try PatternRequest(json: "{\"matrix\": [1.02, 0, 0, 0, 1, 0, 0, 0, 1]}").orientation() }
    }

    @Test func materialListRefusesEmptyNames() throws {
        #expect(try Material.loadList("Si, Ge").map(\.name) == ["Si", "Ge"])
        for list in ["Si,", ",Si", "Si,,Ge", " , "] {
            #expect(throws: LaueError.self, "\(list)") { try Material.loadList(list) }
        }
    }
}
