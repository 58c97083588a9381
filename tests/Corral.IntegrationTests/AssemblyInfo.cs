// Each test class runs a whole cluster (server, agent, supervisor, tasks): two at once would only slow both down on
// a 2-core machine and make their timing assertions noisier.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
