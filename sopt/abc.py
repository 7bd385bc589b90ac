"""ABC classification (R2): rank products by forecast volume (or value), split 1:3:6."""

from __future__ import annotations

from fractions import Fraction

from sopt.scenario import Scenario


def quotas(n: int, ratio: tuple[int, int, int]) -> tuple[int, int, int]:
    """Class counts for n products: n_A = max(1, round(N a / (a+b+c))), n_B likewise, rest C."""
    a, b, c = ratio
    total = a + b + c
    n_a = max(1, int(Fraction(n * a, total) + Fraction(1, 2))) if n else 0
    n_b = int(Fraction(n * b, total) + Fraction(1, 2))
    n_a = min(n_a, n)
    n_b = min(n_b, n - n_a)
    return n_a, n_b, n - n_a - n_b


def classify(scenario: Scenario) -> dict[str, str]:
    """Class per product. Explicit classes win and count toward the quotas (CONTRACT.md, ABC)."""
    n_a, n_b, _ = quotas(len(scenario.products), scenario.abc_ratio)
    out: dict[str, str] = {}
    for p in scenario.products:
        if p.declared_class:
            out[p.id] = p.declared_class
    left_a = max(0, n_a - sum(1 for c in out.values() if c == "A"))
    left_b = max(0, n_b - sum(1 for c in out.values() if c == "B"))

    def volume(pid: str) -> Fraction:
        units = Fraction(sum(scenario.forecast.get(pid, ())))
        if scenario.abc_basis == "value":
            price = scenario.product(pid).price
            return units * (price or 0)
        return units

    ranked = sorted((p.id for p in scenario.products if p.id not in out), key=lambda pid: (-volume(pid), pid))
    for pid in ranked:
        if left_a > 0:
            out[pid], left_a = "A", left_a - 1
        elif left_b > 0:
            out[pid], left_b = "B", left_b - 1
        else:
            out[pid] = "C"
    return out
