"""Allergy classes: how health records name a class of drugs, and the WHO ATC groups it
holds.

An allergy that names a class (``names``, in Chinese and English, as records write them;
compared as ``names.names_any`` does) makes every drug whose ATC code starts with one of
``atc`` an error, and a drug in ``cross_reactive`` a warning. The groups are WHO ATC/DDD
Index codes: level 3 or 4 where the whole group is the class, level 5 where only some
substances of a group are (sulfasalazine among the aminosalicylates), as WHO's ATC/DDD
Index lists them; a new substance of a group is covered the day WHO adds it.
``tests/test_allergy_classes.py`` checks the table against well-known drugs of the catalog.

What is left out on purpose:

- Trimethoprim alone (J01EA) is not a sulfonamide; its combinations with one (J01EE) are.
  Non-antibacterial sulfonamides (furosemide, thiazides, sulfonylureas, celecoxib) are not
  counted either: cross-reactivity with sulfonamide antibacterials is not shown, and a
  "sulfa" allergy must not block a loop diuretic.
- Penicillins and cephalosporins, and either and carbapenems, are cross-reactive, not one
  class: a warning, with the doctor's reason (China's β-lactam skin-test guidance, 2021,
  asks for caution, not refusal). Monobactams (aztreonam) are β-lactams but not
  cross-reactive with penicillins.
- Celecoxib (M01AH) is an NSAID and counts as one: an allergy recorded as "NSAIDs" names it.
  An allergy to aspirin makes other NSAIDs a warning (cross-intolerance through COX-1),
  not an error.
- "Antibiotics" (抗生素) names no class here: it would refuse every antibacterial; the
  doctor asks which one.
"""

from __future__ import annotations

from dataclasses import dataclass

from medmarket.prescriptions.rules.names import names_any

_CEPHALOSPORINS = ("J01DB", "J01DC", "J01DD", "J01DE", "J01DI01", "J01DI02", "J01DI04", "J01DI54")
_CARBAPENEMS = ("J01DH",)
_PENICILLINS = ("J01C",)
_NSAIDS = ("M01A", "M02AA", "S01BC", "N02BA", "B01AC06")


@dataclass(frozen=True)
class AllergyClass:
    key: str
    name_zh: str
    name_en: str
    # How findings name it (name_zh, name_en) and how records do (names).
    names: tuple[str, ...]
    atc: tuple[str, ...]
    cross_reactive: tuple[str, ...] = ()

    def holds(self, atc_code: str) -> bool:
        return atc_code.startswith(self.atc)

    def cross_reacts(self, atc_code: str) -> bool:
        return bool(self.cross_reactive) and atc_code.startswith(self.cross_reactive)


ALLERGY_CLASSES: tuple[AllergyClass, ...] = (
    AllergyClass(
        key="penicillins",
        name_zh="青霉素类",
        name_en="penicillins",
        # 青霉素 is benzylpenicillin, and what a record means by it is the class (皮试).
        names=("青霉素类", "青霉素", "penicillins", "penicillin", "pcn"),
        atc=_PENICILLINS,
        cross_reactive=_CEPHALOSPORINS + _CARBAPENEMS,
    ),
    AllergyClass(
        key="cephalosporins",
        name_zh="头孢菌素类",
        name_en="cephalosporins",
        names=(
            "头孢菌素类",
            "头孢菌素",
            "头孢",
            "先锋霉素",
            "cephalosporins",
            "cephalosporin",
        ),
        atc=_CEPHALOSPORINS,
        cross_reactive=_PENICILLINS + _CARBAPENEMS,
    ),
    AllergyClass(
        key="carbapenems",
        name_zh="碳青霉烯类",
        name_en="carbapenems",
        names=("碳青霉烯类", "碳青霉烯", "carbapenems", "carbapenem"),
        atc=_CARBAPENEMS,
        cross_reactive=_PENICILLINS + _CEPHALOSPORINS,
    ),
    AllergyClass(
        key="beta_lactams",
        name_zh="β-内酰胺类",
        name_en="β-lactam antibacterials",
        names=(
            "β-内酰胺类",
            "β-内酰胺",
            "β-lactam antibacterials",
            "β-lactams",
            "β-lactam",
            "beta-lactams",
            "beta-lactam",
        ),
        atc=("J01C", "J01D"),
    ),
    AllergyClass(
        key="sulfonamides",
        name_zh="磺胺类",
        name_en="sulfonamides",
        names=(
            "磺胺类",
            "磺胺",
            "sulfonamides",
            "sulfonamide",
            "sulphonamides",
            "sulphonamide",
            "sulfa",
            "sulpha",
        ),
        # Systemic (short-, intermediate-, long-acting, with trimethoprim), sulfasalazine,
        # and topical: silver sulfadiazine, sulfacetamide eye drops.
        atc=("J01EB", "J01EC", "J01ED", "J01EE", "A07EC01", "D06BA", "S01AB"),
    ),
    AllergyClass(
        key="macrolides",
        name_zh="大环内酯类",
        name_en="macrolides",
        names=("大环内酯类", "大环内酯", "macrolides", "macrolide"),
        # Erythromycin eye ointment is S01AA17.
        atc=("J01FA", "S01AA17"),
    ),
    AllergyClass(
        key="quinolones",
        name_zh="喹诺酮类",
        name_en="quinolones",
        names=(
            "喹诺酮类",
            "喹诺酮",
            "氟喹诺酮类",
            "氟喹诺酮",
            "沙星类",
            "沙星",
            "quinolones",
            "quinolone",
            "fluoroquinolones",
            "fluoroquinolone",
        ),
        # Eye drops (S01AE) and ear drops (ciprofloxacin S02AA15, ofloxacin S02AA16) too.
        atc=("J01M", "S01AE", "S02AA15", "S02AA16"),
    ),
    AllergyClass(
        key="tetracyclines",
        name_zh="四环素类",
        name_en="tetracyclines",
        # 四环素 and tetracycline alone name the drug, which names_drug finds.
        names=("四环素类", "tetracyclines"),
        atc=("J01AA",),
    ),
    AllergyClass(
        key="aminoglycosides",
        name_zh="氨基糖苷类",
        name_en="aminoglycosides",
        names=("氨基糖苷类", "氨基糖苷", "氨基苷类", "aminoglycosides", "aminoglycoside"),
        # Gentamicin and tobramycin eye drops are S01AA11 and S01AA12.
        atc=("J01G", "S01AA11", "S01AA12"),
    ),
    AllergyClass(
        key="nsaids",
        name_zh="非甾体抗炎药",
        name_en="NSAIDs",
        names=(
            "非甾体抗炎药",
            "非甾体类抗炎药",
            "非甾体",
            "非甾类",
            "nsaids",
            "nsaid",
            "non-steroidal anti-inflammatory",
            "nonsteroidal anti-inflammatory",
        ),
        # Systemic (M01A), topical (M02AA), eye drops (S01BC), and aspirin (N02BA01,
        # B01AC06) with the other salicylates.
        atc=_NSAIDS,
    ),
    AllergyClass(
        key="salicylates",
        name_zh="水杨酸类（阿司匹林）",
        name_en="salicylates (aspirin)",
        names=(
            "阿司匹林",
            "乙酰水杨酸",
            "水杨酸类",
            "aspirin",
            "acetylsalicylic acid",
            "asa",
            "salicylates",
            "salicylate",
        ),
        atc=("N02BA", "B01AC06"),
        cross_reactive=("M01A", "M02AA", "S01BC"),
    ),
    AllergyClass(
        key="pyrazolones",
        name_zh="吡唑酮类",
        name_en="pyrazolones",
        names=("吡唑酮类", "吡唑酮", "pyrazolones", "pyrazolone"),
        atc=("N02BB",),
    ),
    AllergyClass(
        key="opioids",
        name_zh="阿片类",
        name_en="opioids",
        names=("阿片类", "阿片", "opioids", "opioid", "opiates", "opiate"),
        # Opioid analgesics and anaesthetics, methadone, and codeine as a cough medicine.
        atc=("N02A", "N01AH", "N07BC", "R05DA04"),
    ),
    AllergyClass(
        key="iodinated_contrast",
        name_zh="碘造影剂",
        name_en="iodinated contrast media",
        names=(
            "碘造影剂",
            "含碘造影剂",
            "碘对比剂",
            "iodinated contrast media",
            "iodinated contrast",
            "contrast dye",
        ),
        atc=("V08A",),
    ),
    AllergyClass(
        key="contrast_media",
        name_zh="造影剂",
        name_en="contrast media",
        names=("造影剂", "对比剂", "contrast media", "contrast"),
        atc=("V08",),
    ),
    AllergyClass(
        key="iodine",
        name_zh="碘制剂",
        name_en="iodine products",
        # As records write it after a reaction to contrast or to povidone-iodine.
        names=("碘制剂", "碘", "碘剂", "碘伏", "iodine products", "iodine"),
        atc=("V08A", "D08AG"),
    ),
)


def classes_named(text: str) -> list[AllergyClass]:
    """The classes an allergy line names."""
    return [allergy for allergy in ALLERGY_CLASSES if names_any(text, allergy.names)]
