using System.CommandLine;
using Corral.Cli;

// No termination timeout: the long-running commands (dev, server run, agent, supervisor) handle SIGINT and SIGTERM
// themselves and take as long as a clean stop needs; System.CommandLine's default would exit with 130 after 2 s,
// leaving tasks and the supervisor behind.
return await CorralCommand.RunAsync(args, new InvocationConfiguration { ProcessTerminationTimeout = null }).ConfigureAwait(false);
