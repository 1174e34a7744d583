"""The exact factorisation C = L Lᵀ of the assumed correlations (hepcombine.correlations)."""

import numpy as np
import pytest

from hepcombine.correlations import factorize_correlations, nearest_correlation_matrix
from hepcombine.exceptions import InvalidCorrelation

NAMES = ["a", "b", "c", "d"]


@pytest.mark.parametrize("rho", [1.0, -1.0, 0.3])
def test_factor_reproduces_the_matrix_exactly(rho):
    f = factorize_correlations(NAMES, {(0, 1): rho, (2, 3): 0.4})
    c = np.eye(4)
    c[0, 1] = c[1, 0] = rho
    c[2, 3] = c[3, 2] = 0.4
    np.testing.assert_allclose(f.L @ f.L.T, c, atol=1e-12)
    np.testing.assert_allclose(f.L_pinv @ f.L, np.eye(f.L.shape[1]), atol=1e-10)
    assert f.repaired == {}


def test_rank_drops_at_plus_minus_one():
    f = factorize_correlations(NAMES, {(0, 1): 1.0})
    assert f.L.shape == (4, 3)  # a and b are one parameter


def test_indefinite_is_an_error_naming_sources_unless_repaired():
    bad = {(0, 1): 0.9, (1, 2): 0.9, (0, 2): -0.9}
    with pytest.raises(InvalidCorrelation, match="a.*b.*c|not positive semi-definite"):
        factorize_correlations(NAMES, bad)
    f = factorize_correlations(NAMES, bad, repair=True)
    assert np.linalg.eigvalsh(f.matrix).min() > -1e-10
    assert set(f.repaired) >= {("a", "b")}
    # Higham's nearest correlation matrix keeps a unit diagonal and is PSD
    c = np.array([[1, 0.9, -0.9], [0.9, 1, 0.9], [-0.9, 0.9, 1]])
    near = nearest_correlation_matrix(c)
    np.testing.assert_allclose(np.diag(near), 1.0)
    assert np.linalg.eigvalsh(near).min() > -1e-10


def test_components_by_union_find_equal_scipy_csgraph():
    """The correlation groups (hepcombine.correlations._components, union–find) are the
    connected components scipy.sparse.csgraph finds, on random graphs of 1 to 60 sources."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    from hepcombine.correlations import _components

    rng = np.random.default_rng(22)
    for _ in range(200):
        n = int(rng.integers(1, 60))
        m = int(rng.integers(0, 2 * n))
        edges = [tuple(map(int, rng.integers(0, n, 2))) for _ in range(m)]
        edges = [(i, j) for i, j in edges if i != j]
        count, labels = _components(n, edges)
        rows = [i for i, _ in edges]
        cols = [j for _, j in edges]
        graph = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))
        ref_count, ref = connected_components(graph, directed=False)
        assert count == ref_count
        # the same partition: labels correspond one to one
        pairs = set(zip(labels.tolist(), ref.tolist(), strict=True))
        assert len(pairs) == count
        # labels numbered by each component's smallest source
        firsts = [int(np.flatnonzero(labels == k)[0]) for k in range(count)]
        assert firsts == sorted(firsts)
