using System.Globalization;

namespace Corral.Testing.Lab;

/// <summary>
/// How often the lab's randomized scenarios repeat and from which seed, the same for every lab test:
/// <c>CORRAL_LAB_REPEAT=N</c> (CI runs each scenario's default; issue 22's runs used 20) and <c>CORRAL_LAB_SEED=S</c>,
/// which a test prints so that a failing run can be repeated.
/// </summary>
public static class LabRepeat
{
    /// <summary><c>CORRAL_LAB_REPEAT</c> when it is a positive whole number, else <paramref name="otherwise"/>.</summary>
    public static int Count(int otherwise) =>
        int.TryParse(Environment.GetEnvironmentVariable("CORRAL_LAB_REPEAT"), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : otherwise;

    /// <summary><c>CORRAL_LAB_SEED</c> when given, else one picked for this test run.</summary>
    public static int Seed { get; } =
        int.TryParse(Environment.GetEnvironmentVariable("CORRAL_LAB_SEED"), NumberStyles.None, CultureInfo.InvariantCulture, out var s) ? s : Random.Shared.Next(1, int.MaxValue);
}
