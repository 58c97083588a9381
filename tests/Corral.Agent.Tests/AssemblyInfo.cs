using System.Runtime.Versioning;

// The supervisor, its cgroups and /proc are Linux only; so are these tests.
[assembly: SupportedOSPlatform("linux")]
