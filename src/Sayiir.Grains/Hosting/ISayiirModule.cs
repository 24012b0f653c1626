using Microsoft.Extensions.DependencyInjection;

namespace Sayiir.Hosting;

/// <summary>
/// A unit of workflows and their services that a generic host (such as <c>Sayiir.Silo</c>) can load from an
/// assembly: public, parameterless, non-abstract implementations are discovered and applied at start-up.
/// </summary>
public interface ISayiirModule
{
    /// <summary>Registers the module's workflows on <paramref name="sayiir"/> and its task services on <paramref name="services"/>.</summary>
    void Configure(SayiirSiloBuilder sayiir, IServiceCollection services);
}
