namespace Corral.Testing;

/// <summary>Bounded polling for a condition, for tests on a loaded machine: never a fixed sleep as an assertion.</summary>
public static class Eventually
{
    /// <summary>Polls <paramref name="condition"/> every 50 ms until it holds; fails with <paramref name="what"/> after <paramref name="timeout"/>.</summary>
    public static async Task TrueAsync(Func<bool> condition, TimeSpan timeout, string what)
    {
        await ValueAsync(() => Task.FromResult(condition() ? (bool?)true : null), timeout, what).ConfigureAwait(false);
    }

    /// <summary>Polls until <paramref name="probe"/> returns non-null and returns that value; fails after <paramref name="timeout"/>.</summary>
    public static async Task<T> ValueAsync<T>(Func<Task<T?>> probe, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        Exception? last = null;
        while (true)
        {
            try
            {
                if (await probe().ConfigureAwait(false) is { } value)
                {
                    return value;
                }
            }
            catch (Exception ex) when (ex is not Xunit.Sdk.XunitException)
            {
                last = ex;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"timed out after {timeout.TotalSeconds:0.#} s waiting for {what}" + (last is null ? string.Empty : $" (last error: {last.Message})"));
            }
            await Task.Delay(50).ConfigureAwait(false);
        }
    }
}
