using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Corral.Agent.Supervisor;

/// <summary>A user of this node as the C library's name service resolves it.</summary>
public sealed record UserAccount(string Name, uint Uid, uint Gid, string Home)
{
    /// <summary>Looks a user up by name or numeric uid; null when the node has no such user.</summary>
    public static unsafe UserAccount? Find(string nameOrUid)
    {
        ArgumentNullException.ThrowIfNull(nameOrUid);
        var buffer = new byte[16384];
        Interop.Passwd pwd;
        Interop.Passwd* result = null;
        int rc;
        fixed (byte* buf = buffer)
        {
            if (uint.TryParse(nameOrUid, NumberStyles.None, CultureInfo.InvariantCulture, out var uid))
            {
                rc = Interop.getpwuid_r(uid, &pwd, buf, buffer.Length, &result);
            }
            else
            {
                var name = Encoding.UTF8.GetBytes(nameOrUid + "\0");
                fixed (byte* n = name)
                {
                    rc = Interop.getpwnam_r(n, &pwd, buf, buffer.Length, &result);
                }
            }
            if (rc != 0 || result == null)
            {
                return null;
            }
            return new UserAccount(
                Marshal.PtrToStringUTF8((nint)pwd.Name) ?? nameOrUid,
                pwd.Uid,
                pwd.Gid,
                Marshal.PtrToStringUTF8((nint)pwd.Dir) ?? "/");
        }
    }

    /// <summary>The effective uid of this process.</summary>
    public static uint EffectiveUid => Interop.geteuid();
}
