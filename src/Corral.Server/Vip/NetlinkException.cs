namespace Corral.Server.Vip;

/// <summary>
/// The kernel refused an rtnetlink request (its acknowledgement carried an errno), or the request could not be made.
/// An <see cref="IOException"/> so that callers handling address changes keep one failure type.
/// </summary>
public sealed class NetlinkException : IOException
{
    public NetlinkException(string message, int errno)
        : base(message)
    {
        Errno = errno;
    }

    /// <summary>The errno the kernel answered with (e.g. 19 ENODEV, 22 EINVAL, 99 EADDRNOTAVAIL); 0 when none.</summary>
    public int Errno { get; }
}
