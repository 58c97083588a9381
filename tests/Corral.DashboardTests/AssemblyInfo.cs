// Each test class runs a whole cluster and a browser: two at once would only slow both down on a 2-core machine
// and make the timing checks (change on the page within 2 s) noisier.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
