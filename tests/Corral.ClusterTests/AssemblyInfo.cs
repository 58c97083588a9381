// Each lab test builds several network namespaces with real etcd members and servers: two at once would only slow
// both down on a 2-core machine and make their timing noisier.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
