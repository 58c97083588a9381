namespace Corral.Bench;

/// <summary>Entry point: <c>dotnet run -c Release --project bench/Corral.Bench -- COMMAND</c>.</summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        var commands = BenchCommands.All;
        if (args.Length == 0 || !commands.TryGetValue(args[0], out var run))
        {
            Console.Error.WriteLine("usage: Corral.Bench <command> [options]");
            Console.Error.WriteLine("commands: " + string.Join(", ", commands.Keys.Order()));
            return 2;
        }
        return await run(args[1..]);
    }
}
