/// How far a served value may be from the expected one: `absolute + relative * |expected|`, as
/// numpy's `isclose`. The one tolerance test of smoke, rollout and tune.
package struct Tolerance: Sendable, Equatable {
    package var relative: Double
    package var absolute: Double

    package init(relative: Double, absolute: Double) {
        self.relative = relative
        self.absolute = absolute
    }

    /// Whether `value` is within the tolerance of `expected` (a NaN never is).
    package func accepts(_ value: Double, expected: Double) -> Bool {
        abs(value - expected) <= absolute + relative * abs(expected)
    }
}
