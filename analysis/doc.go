// Package analysis measures how degenerate an ensemble of trained recurrent
// networks is, at every level the reference study uses, on the host (gonum),
// in parallel over pairs of networks:
//
//   - behaviour: OOD losses, sigma_OOD, distances between networks' outputs
//     (Behaviour, MaskedMSE, OutputDistances);
//   - dynamics: Dynamical Similarity Analysis with the definitions of
//     mitchellostrow/DSA (delay embedding, SVD, HAVOK operator, angular and
//     euclidean scores; FitOperator, DSAMatrix, DSANull for the split-half
//     null), its Procrustes distance over both components of O(n) found by
//     a Riemannian L-BFGS search from spectral and random starts
//     (AlignOrthogonal) instead of the reference's single Adam run;
//   - weights: the permutation distance min_P ||W1 - P^T W2 P||_F, a
//     quadratic assignment problem (PermutationDistance, with the linear
//     assignment solver LinearAssignment);
//   - representation: linear CKA, SVCCA and the angular Procrustes shape
//     distance between hidden states;
//   - classical multidimensional scaling (MDS) of any distance matrix, and
//     heatmap and scatter figures made with gonum/plot.
//
// Every pairwise measure returns a symmetric (N, N) *mat.SymDense with a zero
// diagonal (Pairwise). Bad data (wrong shapes, NaN or Inf, impossible
// options) is a returned error that names the array and the problem, never a
// panic or a NaN result. The package never imports cpu, gpu or cuda.
package analysis
