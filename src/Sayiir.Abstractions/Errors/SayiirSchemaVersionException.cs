namespace Sayiir;

/// <summary>
/// Raised at start-up when the database's Sayiir schema was migrated by a newer Sayiir than this one: running older
/// code on a newer schema (and newer stored runs) is refused. Deploy the newer version, or restore a backup taken
/// before the upgrade. The message names the database (never credentials) and both versions.
/// </summary>
[GenerateSerializer, Alias("sayiir.SayiirSchemaVersionException")]
public sealed class SayiirSchemaVersionException : SayiirException
{
    /// <summary>Creates the exception.</summary>
    public SayiirSchemaVersionException(string message) : base(message) { }

    /// <summary>Creates the exception with an inner cause.</summary>
    public SayiirSchemaVersionException(string message, Exception? innerException) : base(message, innerException) { }

    /// <summary>Creates the exception for the database at <paramref name="target"/>.</summary>
    public SayiirSchemaVersionException(string target, int databaseVersion, int supportedVersion)
        : base($"The Sayiir schema of PostgreSQL database {target} is at version {databaseVersion}, newer than version "
            + $"{supportedVersion}, the latest this build of Sayiir knows. It was upgraded by a newer Sayiir; refusing to "
            + "run older code on it. Deploy that newer version (or restore a backup taken before the upgrade).")
    {
        Target = target;
        DatabaseVersion = databaseVersion;
        SupportedVersion = supportedVersion;
    }

    /// <summary>The database, as <c>host:port/database</c>.</summary>
    [Id(0)]
    public string Target { get; private set; } = "";

    /// <summary>The schema version recorded in the database.</summary>
    [Id(1)]
    public int DatabaseVersion { get; private set; }

    /// <summary>The latest schema version this build knows.</summary>
    [Id(2)]
    public int SupportedVersion { get; private set; }
}
