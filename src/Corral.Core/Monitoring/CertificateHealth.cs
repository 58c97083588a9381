namespace Corral.Core.Monitoring;

/// <summary>A certificate the cluster depends on.</summary>
/// <param name="Subject">Alarm subject: <c>cert/ca</c>, <c>cert/server/NAME</c>, <c>cert/node/NAME</c>.</param>
/// <param name="Description">For people: "the cluster CA", "server s1's certificate".</param>
/// <param name="NotAfter">When it expires.</param>
/// <param name="Renew">What to do to renew it.</param>
public sealed record CertificateHealth(string Subject, string Description, DateTimeOffset NotAfter, string Renew);
