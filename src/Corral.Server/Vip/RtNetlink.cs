using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;

namespace Corral.Server.Vip;

/// <summary>
/// IPv4 addresses through rtnetlink (an <c>AF_NETLINK</c>/<c>NETLINK_ROUTE</c> socket, as iproute2 does it), in the
/// network namespace of the calling thread; needs CAP_NET_ADMIN. Each call is one request on a fresh socket and
/// returns once the kernel acknowledged it, so a caller that reads the clock after the call knows the change (and, for
/// a lifetime, its start) is no later than that.
/// </summary>
/// <remarks>
/// Why not <c>ip addr</c>: the leader renews the VIP's kernel lifetime with every acknowledged lease renewal (about three
/// times a second); a process per renewal costs milliseconds of a busy machine and leaves the moment the kernel took the
/// change uncertain. The request is synchronous in the kernel: the acknowledgement is queued before <c>sendto</c>
/// returns.
/// </remarks>
public static partial class RtNetlink
{
    /// <summary>The kernel's "forever" lifetime (<c>INFINITY_LIFE_TIME</c>): a permanent address.</summary>
    public const uint Forever = uint.MaxValue;

    private static readonly TimeSpan AckTimeout = TimeSpan.FromSeconds(5);
    private static int _sequence;

    private const int AfNetlink = 16;
    private const int AfInet = 2;
    private const int SockRaw = 3;
    private const int SockCloexec = 0x80000;
    private const int NetlinkRoute = 0;
    private const int SolNetlink = 270;
    private const int NetlinkCapAck = 10;
    private const int NetlinkExtAck = 11;

    private const ushort NlmsgError = 2;
    private const ushort RtmNewAddr = 20;
    private const ushort RtmDelAddr = 21;
    private const ushort NlmFRequest = 0x1;
    private const ushort NlmFAck = 0x4;
    private const ushort NlmFReplace = 0x100;
    private const ushort NlmFCreate = 0x400;
    private const ushort NlmFCapped = 0x100;
    private const ushort NlmFAckTlvs = 0x200;

    private const ushort IfaAddress = 1;
    private const ushort IfaLocal = 2;
    private const ushort IfaCacheInfo = 6;
    private const ushort NlmsgerrAttrMsg = 1;

    private const int Eaddrnotavail = 99;

    private const int HeaderLength = 16;
    private const int IfAddrMsgLength = 8;

    /// <summary>
    /// Adds <paramref name="address"/>/<paramref name="prefixLength"/> to <paramref name="interfaceName"/>, or, when it is
    /// there, replaces its lifetime (<c>RTM_NEWADDR</c> with <c>NLM_F_CREATE | NLM_F_REPLACE</c>): valid and preferred
    /// lifetime both <paramref name="lifetimeSeconds"/>, counted by the kernel from now; <see cref="Forever"/> makes it
    /// permanent. The kernel deletes an address whose valid lifetime ran out by itself (net/ipv4/devinet.c,
    /// <c>check_lifetime</c>), a little after the lifetime: see docs/ha-vip.md for how late.
    /// </summary>
    /// <exception cref="NetlinkException">The interface does not exist, or the kernel refused (its errno and message).</exception>
    public static void ReplaceAddress(string interfaceName, IPAddress address, int prefixLength, uint lifetimeSeconds)
    {
        ArgumentOutOfRangeException.ThrowIfZero(lifetimeSeconds);
        var index = InterfaceIndex(interfaceName);
        Span<byte> message = stackalloc byte[HeaderLength + IfAddrMsgLength + 8 + 8 + 20];
        var length = WriteAddressMessage(message, RtmNewAddr, NlmFRequest | NlmFAck | NlmFCreate | NlmFReplace, index, address, prefixLength);
        // IFA_CACHEINFO: struct ifa_cacheinfo { ifa_prefered, ifa_valid, cstamp, tstamp } (the stamps are ignored on input).
        length += WriteAttributeHeader(message[length..], IfaCacheInfo, 16);
        MemoryMarshal.Write(message[length..], lifetimeSeconds);
        MemoryMarshal.Write(message[(length + 4)..], lifetimeSeconds);
        length += 16;
        var errno = Request(message[..length]);
        if (errno.Code != 0)
        {
            var lifetime = lifetimeSeconds == Forever ? "forever" : $"{lifetimeSeconds} s";
            throw Failure($"adding or renewing {address}/{prefixLength} on {interfaceName} (lifetime {lifetime})", errno);
        }
    }

    /// <summary>
    /// Deletes <paramref name="address"/>/<paramref name="prefixLength"/> from <paramref name="interfaceName"/>
    /// (<c>RTM_DELADDR</c>). Returns false when it was not there (<c>EADDRNOTAVAIL</c>), which is not an error: the
    /// kernel may have deleted it already when its lifetime ran out.
    /// </summary>
    /// <exception cref="NetlinkException">The interface does not exist, or the kernel refused otherwise.</exception>
    public static bool DeleteAddress(string interfaceName, IPAddress address, int prefixLength)
    {
        var index = InterfaceIndex(interfaceName);
        Span<byte> message = stackalloc byte[HeaderLength + IfAddrMsgLength + 8 + 8];
        var length = WriteAddressMessage(message, RtmDelAddr, NlmFRequest | NlmFAck, index, address, prefixLength);
        var errno = Request(message[..length]);
        return errno.Code switch
        {
            0 => true,
            Eaddrnotavail => false,
            _ => throw Failure($"deleting {address}/{prefixLength} from {interfaceName}", errno),
        };
    }

    /// <summary>The interface's index in the calling thread's network namespace.</summary>
    private static int InterfaceIndex(string interfaceName)
    {
        ArgumentException.ThrowIfNullOrEmpty(interfaceName);
        var index = IfNameToIndex(interfaceName);
        if (index == 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new NetlinkException($"no network interface named '{interfaceName}' ({Describe(errno)})", errno);
        }
        return (int)index;
    }

    /// <summary>Writes the header, <c>struct ifaddrmsg</c>, <c>IFA_LOCAL</c> and <c>IFA_ADDRESS</c>; returns the length so far.</summary>
    private static int WriteAddressMessage(Span<byte> message, ushort type, ushort flags, int index, IPAddress address, int prefixLength)
    {
        if (address.AddressFamily != AddressFamily.InterNetwork)
        {
            throw new ArgumentException($"{address} is not an IPv4 address", nameof(address));
        }
        message.Clear();
        MemoryMarshal.Write(message[4..], type);
        MemoryMarshal.Write(message[6..], flags);
        MemoryMarshal.Write(message[8..], (uint)Interlocked.Increment(ref _sequence));
        // struct ifaddrmsg { ifa_family, ifa_prefixlen, ifa_flags, ifa_scope (RT_SCOPE_UNIVERSE), ifa_index }
        message[HeaderLength] = AfInet;
        message[HeaderLength + 1] = (byte)prefixLength;
        MemoryMarshal.Write(message[(HeaderLength + 4)..], index);
        var length = HeaderLength + IfAddrMsgLength;
        foreach (var attribute in (ReadOnlySpan<ushort>)[IfaLocal, IfaAddress])
        {
            length += WriteAttributeHeader(message[length..], attribute, 4);
            address.TryWriteBytes(message[length..], out _);
            length += 4;
        }
        return length;
    }

    /// <summary>Writes a <c>struct rtattr</c> header for a payload of <paramref name="payload"/> bytes; returns 4.</summary>
    private static int WriteAttributeHeader(Span<byte> destination, ushort type, int payload)
    {
        MemoryMarshal.Write(destination, (ushort)(4 + payload));
        MemoryMarshal.Write(destination[2..], type);
        return 4;
    }

    /// <summary>Sends one request and waits for its acknowledgement; returns the errno it carries (0: done) and the kernel's message.</summary>
    private static (int Code, string? Message) Request(Span<byte> message)
    {
        MemoryMarshal.Write(message, (uint)message.Length);
        var sequence = MemoryMarshal.Read<uint>(message[8..]);
        var fd = Socket(AfNetlink, SockRaw | SockCloexec, NetlinkRoute);
        if (fd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new NetlinkException($"cannot open a netlink socket ({Describe(errno)})", errno);
        }
        try
        {
            // Ask for the kernel's error message with the errno, and not for our request echoed back.
            var one = 1;
            _ = SetSockOpt(fd, SolNetlink, NetlinkExtAck, ref one, sizeof(int));
            _ = SetSockOpt(fd, SolNetlink, NetlinkCapAck, ref one, sizeof(int));
            Span<byte> kernel = stackalloc byte[12];
            kernel.Clear();
            MemoryMarshal.Write(kernel, (ushort)AfNetlink);
            if (SendTo(fd, ref MemoryMarshal.GetReference(message), message.Length, 0, ref MemoryMarshal.GetReference(kernel), kernel.Length) < 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                throw new NetlinkException($"sending a netlink request failed ({Describe(errno)})", errno);
            }
            return ReadAck(fd, sequence);
        }
        finally
        {
            Close(fd);
        }
    }

    private static (int Code, string? Message) ReadAck(int fd, uint sequence)
    {
        var deadline = Environment.TickCount64 + (long)AckTimeout.TotalMilliseconds;
        var buffer = new byte[8192];
        while (true)
        {
            var poll = new PollFd { Fd = fd, Events = 1 };
            var left = (int)Math.Max(0, deadline - Environment.TickCount64);
            var ready = Poll(ref poll, 1, left);
            if (ready == 0)
            {
                throw new NetlinkException($"the kernel did not acknowledge a netlink request within {AckTimeout.TotalSeconds} s", 0);
            }
            if (ready < 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno == 4)
                {
                    continue; // EINTR
                }
                throw new NetlinkException($"waiting for a netlink acknowledgement failed ({Describe(errno)})", errno);
            }
            var n = (int)Recv(fd, ref MemoryMarshal.GetArrayDataReference(buffer), buffer.Length, 0);
            if (n < 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                throw new NetlinkException($"reading a netlink acknowledgement failed ({Describe(errno)})", errno);
            }
            for (var offset = 0; offset + HeaderLength <= n;)
            {
                var span = buffer.AsSpan(offset, n - offset);
                var length = (int)MemoryMarshal.Read<uint>(span);
                if (length < HeaderLength || length > span.Length)
                {
                    break;
                }
                var type = MemoryMarshal.Read<ushort>(span[4..]);
                var flags = MemoryMarshal.Read<ushort>(span[6..]);
                if (type == NlmsgError && MemoryMarshal.Read<uint>(span[8..]) == sequence && length >= HeaderLength + 4 + HeaderLength)
                {
                    var error = -MemoryMarshal.Read<int>(span[HeaderLength..]);
                    return (error, error != 0 ? ExtendedMessage(span[..length], flags) : null);
                }
                offset += (length + 3) & ~3;
            }
        }
    }

    /// <summary>The kernel's <c>NLMSGERR_ATTR_MSG</c> ("ipv4: …") from an extended acknowledgement, or null.</summary>
    private static string? ExtendedMessage(ReadOnlySpan<byte> ack, ushort flags)
    {
        if ((flags & NlmFAckTlvs) == 0)
        {
            return null;
        }
        // struct nlmsgerr { int error; struct nlmsghdr msg; } and, unless capped, the request's payload.
        var offset = HeaderLength + 4 + HeaderLength;
        if ((flags & NlmFCapped) == 0)
        {
            offset = HeaderLength + 4 + (int)MemoryMarshal.Read<uint>(ack[(HeaderLength + 4)..]);
        }
        while (offset + 4 <= ack.Length)
        {
            var length = MemoryMarshal.Read<ushort>(ack[offset..]);
            var type = (ushort)(MemoryMarshal.Read<ushort>(ack[(offset + 2)..]) & 0x3fff);
            if (length < 4 || offset + length > ack.Length)
            {
                return null;
            }
            if (type == NlmsgerrAttrMsg)
            {
                var text = ack.Slice(offset + 4, length - 4);
                var end = text.IndexOf((byte)0);
                return Encoding.UTF8.GetString(end < 0 ? text : text[..end]);
            }
            offset += (length + 3) & ~3;
        }
        return null;
    }

    private static NetlinkException Failure(string what, (int Code, string? Message) errno) =>
        new($"{what} failed: {Describe(errno.Code)}{(errno.Message is { Length: > 0 } m ? ": " + m : "")}", errno.Code);

    private static string Describe(int errno) => $"errno {errno}, {Marshal.GetPInvokeErrorMessage(errno)}";

    [StructLayout(LayoutKind.Sequential)]
    private struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    [LibraryImport("libc", EntryPoint = "if_nametoindex", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial uint IfNameToIndex(string name);

    [LibraryImport("libc", EntryPoint = "socket", SetLastError = true)]
    private static partial int Socket(int domain, int type, int protocol);

    [LibraryImport("libc", EntryPoint = "setsockopt", SetLastError = true)]
    private static partial int SetSockOpt(int fd, int level, int name, ref int value, int length);

    [LibraryImport("libc", EntryPoint = "sendto", SetLastError = true)]
    private static partial nint SendTo(int fd, ref byte buffer, nint length, int flags, ref byte address, int addressLength);

    [LibraryImport("libc", EntryPoint = "recv", SetLastError = true)]
    private static partial nint Recv(int fd, ref byte buffer, nint length, int flags);

    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    private static partial int Poll(ref PollFd fds, nuint count, int timeoutMs);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
