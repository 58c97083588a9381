using Corral.Cli;

return await CorralCommand.RunAsync(args).ConfigureAwait(false);
