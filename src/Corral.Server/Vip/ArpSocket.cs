using System.Buffers.Binary;
using System.Net;
using System.Net.NetworkInformation;
using System.Runtime.InteropServices;

namespace Corral.Server.Vip;

/// <summary>
/// A raw <c>AF_PACKET</c> socket for ARP on one interface, in the network namespace of the thread that opens it
/// (needs CAP_NET_RAW). Sends gratuitous ARP for a virtual IP, and ARP requests and receives replies (the lab's probe).
/// </summary>
public sealed partial class ArpSocket : IDisposable
{
    private const int AfPacket = 17;
    private const int SockRaw = 3;
    private const ushort EthPArp = 0x0806;
    private const int FrameLength = 42;
    private static readonly byte[] Broadcast = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff];

    private readonly int _fd;
    private readonly int _ifIndex;
    private int _disposed;

    private ArpSocket(int fd, int ifIndex, byte[] mac, string interfaceName)
    {
        _fd = fd;
        _ifIndex = ifIndex;
        Mac = mac;
        InterfaceName = interfaceName;
    }

    /// <summary>The interface's hardware address.</summary>
    public byte[] Mac { get; }

    /// <summary>The interface the socket is bound to.</summary>
    public string InterfaceName { get; }

    /// <summary>Opens a socket on <paramref name="interfaceName"/>; throws <see cref="IOException"/> when it cannot.</summary>
    public static ArpSocket Open(string interfaceName)
    {
        var nic = NetworkInterface.GetAllNetworkInterfaces().FirstOrDefault(n => n.Name == interfaceName)
            ?? throw new IOException($"no network interface named '{interfaceName}'");
        var mac = nic.GetPhysicalAddress().GetAddressBytes();
        if (mac.Length != 6)
        {
            throw new IOException($"interface '{interfaceName}' has no Ethernet address");
        }
        var index = nic.GetIPProperties().GetIPv4Properties().Index;
        var fd = Socket(AfPacket, SockRaw, BinaryPrimitives.ReverseEndianness(EthPArp));
        if (fd < 0)
        {
            throw new IOException($"cannot open a raw ARP socket on '{interfaceName}': errno {Marshal.GetLastPInvokeError()} (needs CAP_NET_RAW)");
        }
        var address = LinkAddress(index, Broadcast);
        if (Bind(fd, address, address.Length) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            Close(fd);
            throw new IOException($"cannot bind a raw ARP socket to '{interfaceName}': errno {errno}");
        }
        return new ArpSocket(fd, index, mac, interfaceName);
    }

    /// <summary>Formats a MAC as <c>aa:bb:cc:dd:ee:ff</c>.</summary>
    public static string FormatMac(ReadOnlySpan<byte> mac) => Convert.ToHexString(mac).ToLowerInvariant() is var hex
        ? string.Join(':', Enumerable.Range(0, hex.Length / 2).Select(i => hex.Substring(i * 2, 2)))
        : "";

    /// <summary>
    /// Sends one gratuitous ARP request for <paramref name="address"/> (sender and target both the address, to the
    /// broadcast MAC): every host that has the address in its neighbour table moves it to this interface's MAC.
    /// </summary>
    public void SendGratuitous(IPAddress address) => Send(1, address, Broadcast, address);

    /// <summary>Sends one ARP request "who has <paramref name="target"/>, tell <paramref name="sender"/>" to the broadcast MAC.</summary>
    public void SendRequest(IPAddress sender, IPAddress target) => Send(1, sender, new byte[6], target);

    /// <summary>
    /// Waits up to <paramref name="timeout"/> for an ARP reply and returns its sender MAC and address; null on timeout.
    /// Frames that are not ARP replies are skipped (within the same timeout).
    /// </summary>
    public (string Mac, IPAddress Address)? ReceiveReply(TimeSpan timeout)
    {
        var deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        Span<byte> frame = stackalloc byte[1600];
        while (true)
        {
            var left = (int)Math.Max(0, deadline - Environment.TickCount64);
            var poll = new PollFd { Fd = _fd, Events = 1 };
            var ready = Poll(ref poll, 1, left);
            if (ready <= 0)
            {
                return null;
            }
            var n = Recv(_fd, ref MemoryMarshal.GetReference(frame), frame.Length, 0);
            if (n >= FrameLength && BinaryPrimitives.ReadUInt16BigEndian(frame[12..]) == EthPArp && BinaryPrimitives.ReadUInt16BigEndian(frame[20..]) == 2)
            {
                return (FormatMac(frame.Slice(22, 6)), new IPAddress(frame.Slice(28, 4)));
            }
            if (Environment.TickCount64 >= deadline)
            {
                return null;
            }
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            Close(_fd);
        }
    }

    private void Send(ushort operation, IPAddress sender, byte[] targetMac, IPAddress target)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        Span<byte> frame = stackalloc byte[FrameLength];
        Broadcast.CopyTo(frame);
        Mac.CopyTo(frame[6..]);
        BinaryPrimitives.WriteUInt16BigEndian(frame[12..], EthPArp);
        BinaryPrimitives.WriteUInt16BigEndian(frame[14..], 1); // Ethernet
        BinaryPrimitives.WriteUInt16BigEndian(frame[16..], 0x0800); // IPv4
        frame[18] = 6;
        frame[19] = 4;
        BinaryPrimitives.WriteUInt16BigEndian(frame[20..], operation);
        Mac.CopyTo(frame[22..]);
        sender.TryWriteBytes(frame[28..], out _);
        targetMac.CopyTo(frame[32..]);
        target.TryWriteBytes(frame[38..], out _);
        var address = LinkAddress(_ifIndex, Broadcast);
        if (SendTo(_fd, ref MemoryMarshal.GetReference(frame), frame.Length, 0, address, address.Length) < 0)
        {
            throw new IOException($"sending ARP on '{InterfaceName}' failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    /// <summary>A <c>struct sockaddr_ll</c> (20 bytes).</summary>
    private static byte[] LinkAddress(int ifIndex, byte[] mac)
    {
        var a = new byte[20];
        BinaryPrimitives.WriteUInt16LittleEndian(a, AfPacket);
        BinaryPrimitives.WriteUInt16BigEndian(a.AsSpan(2), EthPArp);
        BinaryPrimitives.WriteInt32LittleEndian(a.AsSpan(4), ifIndex);
        BinaryPrimitives.WriteUInt16LittleEndian(a.AsSpan(8), 1); // ARPHRD_ETHER
        a[11] = 6;
        mac.CopyTo(a, 12);
        return a;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    [LibraryImport("libc", EntryPoint = "socket", SetLastError = true)]
    private static partial int Socket(int domain, int type, int protocol);

    [LibraryImport("libc", EntryPoint = "bind", SetLastError = true)]
    private static partial int Bind(int fd, byte[] address, int length);

    [LibraryImport("libc", EntryPoint = "sendto", SetLastError = true)]
    private static partial nint SendTo(int fd, ref byte buffer, nint length, int flags, byte[] address, int addressLength);

    [LibraryImport("libc", EntryPoint = "recv", SetLastError = true)]
    private static partial nint Recv(int fd, ref byte buffer, nint length, int flags);

    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    private static partial int Poll(ref PollFd fds, nuint count, int timeoutMs);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
