using System.CommandLine;
using Corral.Cli;

return CorralCommand.Build().Parse(args).Invoke();
