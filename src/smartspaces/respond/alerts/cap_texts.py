"""What CAP info blocks say, per language, level and audience (Spanish, Valencian, English)."""

from __future__ import annotations

from dataclasses import dataclass

from smartspaces.events import Level


@dataclass(frozen=True)
class Wording:
    """The words of one info block; ``{space}`` stands for the space's name."""

    event: str
    headline: str
    description: str
    public_instruction: str
    responder_instruction: str


# Keyed by the primary language subtag, so "ca-ES-valencia" and "ca" share the Valencian text.
# Only alert types listed here get translated blocks; other types go out in English only, with
# the alert's own words, rather than with a translation nobody checked.
CROWD_DENSITY: dict[str, dict[Level, Wording]] = {
    "es": {
        Level.AMBER: Wording(
            "Densidad de público elevada",
            "Densidad de público elevada en {space}",
            "La densidad de personas en {space} es alta y sigue subiendo.",
            "Evite acudir a {space} si no es necesario y siga las indicaciones del personal.",
            "Vigilar el espacio y preparar la regulación de accesos en las calles de entrada.",
        ),
        Level.RED: Wording(
            "Aglomeración peligrosa",
            "Aglomeración peligrosa en {space}",
            "La densidad de personas en {space} ha alcanzado un nivel peligroso.",
            "No acuda a {space}. Si está allí, salga con calma por la salida más cercana.",
            "Cortar la entrada en las calles de acceso, abrir todas las salidas, enviar agentes.",
        ),
        Level.CRITICAL: Wording(
            "Riesgo de avalancha humana",
            "Riesgo de avalancha humana en {space}",
            "La densidad de personas en {space} es crítica: riesgo de aplastamiento.",
            "Salga de {space} ahora, con calma, siguiendo las indicaciones de la policía.",
            "Cortar toda entrada, abrir todas las salidas, desalojar ya; avisar a emergencias.",
        ),
        Level.NORMAL: Wording(
            "Fin de aviso por aglomeración",
            "Fin del aviso: densidad de público normal en {space}",
            "La densidad de personas en {space} ha vuelto a niveles normales.",
            "Puede volver a acceder a {space} con normalidad.",
            "Retirar las medidas de forma gradual.",
        ),
    },
    "ca": {
        Level.AMBER: Wording(
            "Densitat de públic elevada",
            "Densitat de públic elevada a {space}",
            "La densitat de persones a {space} és alta i continua pujant.",
            "Eviteu anar a {space} si no és necessari i seguiu les indicacions del personal.",
            "Vigilar l'espai i preparar la regulació d'accessos als carrers d'entrada.",
        ),
        Level.RED: Wording(
            "Aglomeració perillosa",
            "Aglomeració perillosa a {space}",
            "La densitat de persones a {space} ha arribat a un nivell perillós.",
            "No aneu a {space}. Si hi sou, eixiu amb calma per l'eixida més pròxima.",
            "Tallar l'entrada als carrers d'accés, obrir totes les eixides, enviar agents.",
        ),
        Level.CRITICAL: Wording(
            "Risc d'allau humana",
            "Risc d'allau humana a {space}",
            "La densitat de persones a {space} és crítica: risc d'aixafament.",
            "Eixiu de {space} ara, amb calma, seguint les indicacions de la policia.",
            "Tallar tota entrada, obrir totes les eixides, desallotjar ja; avisar emergències.",
        ),
        Level.NORMAL: Wording(
            "Fi d'avís per aglomeració",
            "Fi de l'avís: densitat de públic normal a {space}",
            "La densitat de persones a {space} ha tornat a nivells normals.",
            "Podeu tornar a accedir a {space} amb normalitat.",
            "Retirar les mesures de manera gradual.",
        ),
    },
    "en": {
        Level.AMBER: Wording(
            "High crowd density",
            "High crowd density in {space}",
            "The density of people in {space} is high and still rising.",
            "Avoid {space} unless you need to be there and follow the stewards' directions.",
            "Watch the space; prepare to meter inflow at the access streets.",
        ),
        Level.RED: Wording(
            "Dangerous crowding",
            "Dangerous crowding in {space}",
            "The density of people in {space} has reached a dangerous level.",
            "Do not go to {space}. If you are there, leave calmly by the nearest exit.",
            "Stop inflow at the access streets, open every exit, send officers to the space.",
        ),
        Level.CRITICAL: Wording(
            "Crowd crush risk",
            "Crowd crush risk in {space}",
            "The density of people in {space} is critical: there is a risk of crushing.",
            "Leave {space} now, calmly, following the police's directions.",
            "Stop all inflow, open every exit, move the crowd out now; alert emergency services.",
        ),
        Level.NORMAL: Wording(
            "Crowding warning ended",
            "All clear: crowd density back to normal in {space}",
            "The density of people in {space} is back to normal.",
            "You can go to {space} as usual again.",
            "Lift the measures gradually.",
        ),
    },
}

WORDINGS: dict[str, dict[str, dict[Level, Wording]]] = {"crowd.density": CROWD_DENSITY}
"""Wordings per alert type, then primary language subtag, then level."""


def wording(alert_type: str, language: str, level: Level) -> Wording | None:
    """The wording of ``alert_type`` in ``language`` (a BCP 47 tag) at ``level``, if we have one."""
    primary = language.split("-", 1)[0].lower()
    return WORDINGS.get(alert_type, {}).get(primary, {}).get(level)
