import CGSL
import Foundation

/// Dense linear algebra through GSL (SVD, symmetric eigenproblems, linear least squares).
public enum LinearAlgebra {
    /// Singular value decomposition A = U diag(S) V^T of a rows x cols matrix (rows >= cols),
    /// singular values in descending order. `a` is row-major.
    public static func svd(_ a: [Double], rows: Int, cols: Int) -> (u: [Double], s: [Double], v: [Double]) {
        precondition(rows >= cols && a.count == rows * cols, "svd needs rows >= cols")
        let A = gsl_matrix_alloc(rows, cols)!, V = gsl_matrix_alloc(cols, cols)!
        let S = gsl_vector_alloc(cols)!, work = gsl_vector_alloc(cols)!
        defer { gsl_matrix_free(A); gsl_matrix_free(V); gsl_vector_free(S); gsl_vector_free(work) }
        for i in 0..<rows { for j in 0..<cols { gsl_matrix_set(A, i, j, a[i * cols + j]) } }
        gsl_linalg_SV_decomp(A, V, S, work)
        var u = [Double](repeating: 0, count: rows * cols), v = [Double](repeating: 0, count: cols * cols)
        for i in 0..<rows { for j in 0..<cols { u[i * cols + j] = gsl_matrix_get(A, i, j) } }
        for i in 0..<cols { for j in 0..<cols { v[i * cols + j] = gsl_matrix_get(V, i, j) } }
        return (u, (0..<cols).map { gsl_vector_get(S, $0) }, v)
    }

    /// The proper rotation nearest to `m` in the Frobenius norm (polar decomposition via SVD).
    public static func nearestRotation(_ m: Mat3) -> Mat3 {
        let (u, _, v) = svd(m.flat, rows: 3, cols: 3)
        let U = Mat3(u), V = Mat3(v)
        var r = U * V.transposed
        if r.determinant < 0 {
            // Flip the axis of the smallest singular value to stay in SO(3).
            let D = Mat3.diagonal(1, 1, -1)
            r = U * D * V.transposed
        }
        return r
    }

    /// Eigenvalues (descending) and unit eigenvectors of a real symmetric n x n matrix (row-major).
    public static func symmetricEigen(_ a: [Double], n: Int) -> (values: [Double], vectors: [[Double]]) {
        precondition(a.count == n * n)
        let A = gsl_matrix_alloc(n, n)!, evec = gsl_matrix_alloc(n, n)!
        let eval = gsl_vector_alloc(n)!, ws = gsl_eigen_symmv_alloc(n)!
        defer { gsl_matrix_free(A); gsl_matrix_free(evec); gsl_vector_free(eval); gsl_eigen_symmv_free(ws) }
        for i in 0..<n { for j in 0..<n { gsl_matrix_set(A, i, j, a[i * n + j]) } }
        gsl_eigen_symmv(A, eval, evec, ws)
        gsl_eigen_symmv_sort(eval, evec, GSL_EIGEN_SORT_VAL_DESC)
        let values = (0..<n).map { gsl_vector_get(eval, $0) }
        let vectors = (0..<n).map { col in (0..<n).map { row in gsl_matrix_get(evec, row, col) } }
        return (values, vectors)
    }

    /// Eigenvalues of the symmetric 2 x 2 matrix [[xx, xy], [xy, yy]], the larger first, and the direction
    /// of the larger one's eigenvector, degrees from x towards y in [0, 180).
    public static func symmetricEigen2(_ xx: Double, _ xy: Double, _ yy: Double) -> (large: Double, small: Double, angle: Double) {
        let t = (xx + yy) / 2, d = (((xx - yy) / 2) * ((xx - yy) / 2) + xy * xy).squareRoot()
        var angle = 0.5 * atan2(2 * xy, xx - yy) * 180 / .pi
        if angle < 0 { angle += 180 }
        return (t + d, t - d, angle)
    }

    /// Eigen decomposition of a symmetric 3x3 matrix: values descending, vectors as Vec3.
    public static func symmetricEigen(_ m: Mat3) -> (values: [Double], vectors: [Vec3]) {
        let (vals, vecs) = symmetricEigen(m.flat, n: 3)
        return (vals, vecs.map { Vec3($0) })
    }

    /// Least-squares solution of A x = b (A row-major, rows x cols, rows >= cols) through SVD,
    /// optionally weighted. Returns the solution and the residual sum of squares.
    public static func leastSquares(_ a: [Double], rows: Int, cols: Int, b: [Double],
                                    weights: [Double]? = nil) -> (x: [Double], chiSquared: Double)? {
        guard rows >= cols, a.count == rows * cols, b.count == rows else { return nil }
        let X = gsl_matrix_alloc(rows, cols)!, y = gsl_vector_alloc(rows)!
        let c = gsl_vector_alloc(cols)!, cov = gsl_matrix_alloc(cols, cols)!
        let work = gsl_multifit_linear_alloc(rows, cols)!
        defer {
            gsl_matrix_free(X); gsl_vector_free(y); gsl_vector_free(c); gsl_matrix_free(cov)
            gsl_multifit_linear_free(work)
        }
        for i in 0..<rows {
            for j in 0..<cols { gsl_matrix_set(X, i, j, a[i * cols + j]) }
            gsl_vector_set(y, i, b[i])
        }
        var chisq = 0.0
        let status: Int32
        if let weights {
            let w = gsl_vector_alloc(rows)!
            defer { gsl_vector_free(w) }
            for i in 0..<rows { gsl_vector_set(w, i, weights[i]) }
            status = gsl_multifit_wlinear(X, w, y, c, cov, &chisq, work)
        } else {
            status = gsl_multifit_linear(X, y, c, cov, &chisq, work)
        }
        guard status == GSL_SUCCESS else { return nil }
        return ((0..<cols).map { gsl_vector_get(c, $0) }, chisq)
    }

    /// Call once before using GSL: its default error handler aborts the process.
    public static func disableGSLAbort() { cgsl_disable_abort() }

    public static var gslVersion: String { String(cString: cgsl_version()) }
}
