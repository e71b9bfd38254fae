"""Words the demo composes its submissions from. The procedures live in data/demo_procedures.csv."""

from __future__ import annotations

from typing import Final

# Demo accounts: (role, email, ministry slug or None). Every ministry also gets an agent
# `agent.<n>@demo.gouv.fr` who signs its notes and answers.
DEMO_PASSWORD: Final = "demo-retour-2025"
DEMO_MINISTRY: Final = "ministere-de-l-interieur"
LOGINS: Final = (
    ("admin", "admin@demo.gouv.fr", None),
    ("ministry_admin", "admin.interieur@demo.gouv.fr", DEMO_MINISTRY),
    ("agent", "agent.interieur@demo.gouv.fr", DEMO_MINISTRY),
    ("viewer", "lecteur.interieur@demo.gouv.fr", DEMO_MINISTRY),
    (
        "ministry_admin",
        "admin.solidarites@demo.gouv.fr",
        "ministere-des-solidarites-et-des-familles",
    ),
    ("agent", "agent.solidarites@demo.gouv.fr", "ministere-des-solidarites-et-des-familles"),
)

# What each kind of submission says, by satisfaction: weights of (kind or None).
KIND_WEIGHTS: Final[dict[int, dict[str | None, float]]] = {
    1: {
        "malfunction": 36,
        "complaint": 30,
        "omission": 10,
        "change_request": 10,
        "accessibility": 4,
        "other": 4,
        None: 10,
    },
    2: {
        "change_request": 30,
        "omission": 20,
        "malfunction": 15,
        "complaint": 10,
        "accessibility": 3,
        "other": 10,
        None: 15,
    },
    3: {"praise": 55, "change_request": 10, "other": 8, "omission": 2, None: 25},
}

STEPS: Final = (
    "l'étape 2",
    "l'étape 3",
    "la dernière étape",
    "la page de paiement",
    "l'envoi des pièces justificatives",
    "la page de connexion",
    "la confirmation",
    "la prise de rendez-vous",
)
DOCUMENTS: Final = (
    "le justificatif de domicile",
    "la photo d'identité",
    "l'avis d'imposition",
    "le RIB",
    "la copie de la pièce d'identité",
    "l'attestation de l'employeur",
    "le livret de famille",
)
DEVICES: Final = (
    "sur mon téléphone",
    "sur tablette",
    "avec Firefox",
    "avec Safari sur iPhone",
    "sur l'ordinateur de la médiathèque",
    "avec mon lecteur d'écran",
    "",
)
DELAYS: Final = (
    "trois semaines",
    "deux mois",
    "plus de dix jours",
    "un mois et demi",
    "six semaines",
)

CORES: Final[dict[str, tuple[str, ...]]] = {
    "malfunction": (
        "Le bouton « Valider » ne fait rien à {step}.",
        "Impossible de téléverser {document} : « erreur technique » {device}.",
        "La page tourne dans le vide après la connexion FranceConnect.",
        "J'ai été déconnecté au milieu de {subject} et tout ce que j'avais saisi a été perdu.",
        "Le code de vérification envoyé par SMS n'arrive jamais.",
        "Le paiement par carte est refusé alors que ma banque dit que tout est normal.",
        "« Une erreur est survenue, veuillez réessayer plus tard » depuis {delay}.",
        "Le formulaire efface les champs déjà remplis quand on revient en arrière.",
        "Le PDF du récépissé ne s'ouvre pas {device}.",
        "Le calendrier de rendez-vous reste vide, quel que soit le mois choisi.",
        "Le site indique que mon adresse n'existe pas alors que j'y habite depuis dix ans.",
        "Après validation, retour à la page d'accueil sans aucun message.",
    ),
    "complaint": (
        "Cela fait {delay} que {subject} est « en cours d'instruction », sans aucune nouvelle.",
        "Personne ne répond au téléphone et le formulaire de contact renvoie vers la FAQ.",
        "On m'a demandé trois fois {document} alors que je l'avais déjà envoyé.",
        "Ma demande a été refusée sans la moindre explication.",
        "Aucun accusé de réception après l'envoi de {subject}.",
        "Le délai annoncé sur le site n'est absolument pas respecté.",
        "On m'oblige à me déplacer alors que la démarche est censée se faire en ligne.",
        "Le service est inaccessible le week-end, seul moment où je peux m'en occuper.",
    ),
    "change_request": (
        "Il faudrait pouvoir enregistrer un brouillon et revenir plus tard.",
        "Merci d'indiquer dès le début la liste des pièces à fournir.",
        "Ce serait bien de pouvoir suivre l'avancement de {subject} en ligne.",
        "Acceptez les photos prises avec le téléphone, pas seulement les PDF.",
        "Les textes sont trop petits et le contraste trop faible {device}.",
        "Un courriel quand le dossier avance éviterait d'appeler.",
        "Proposez une version en anglais pour les personnes qui ne lisent pas le français.",
        "Pouvoir payer en plusieurs fois aiderait beaucoup.",
    ),
    "accessibility": (
        "Avec mon lecteur d'écran, les boutons de {step} ne sont pas annoncés.",
        "Impossible d'aller au bouton « Valider » au clavier : la tabulation saute par-dessus.",
        "En zoomant à 200 %, le formulaire déborde et on ne voit plus {document}.",
        "Le captcha n'a pas d'alternative sonore : je ne peux pas finir {subject}.",
        "Les messages d'erreur ne sont donnés qu'en rouge, je ne les distingue pas.",
    ),
    "omission": (
        "Le formulaire ne prévoit pas le cas des personnes hébergées chez un tiers.",
        "Ma situation (garde alternée) n'existe pas dans la liste.",
        "Rien n'explique quoi faire quand on n'a pas {document}.",
        "Impossible de déclarer un changement de situation en cours d'année.",
        "Pas de champ pour une adresse à l'étranger.",
        "Aucune information sur le délai de traitement de {subject}.",
    ),
    "praise": (
        "Démarche rapide et claire, faite en dix minutes.",
        "Beaucoup plus simple qu'avant, merci !",
        "Très bien expliqué, j'ai tout trouvé du premier coup.",
        "Reçu en moins d'une semaine après {subject}, bravo.",
        "Site clair et qui fonctionne bien {device}.",
        "Rien à redire, efficace.",
        "Enfin une démarche qui marche du premier coup.",
    ),
    "other": (
        "Je ne savais pas s'il fallait passer par ce site ou par la mairie.",
        "Est-ce que cette démarche est gratuite ?",
        "Je teste le bouton, bonne initiative.",
        "Le lien du courriel de confirmation mène à une page introuvable.",
        "Je fais cette démarche pour ma mère, qui n'a pas d'ordinateur.",
    ),
}
OPENINGS: Final = ("Bonjour,", "Bonjour.", "Madame, Monsieur,", "Franchement,", "Encore une fois :")
CLOSINGS: Final[dict[int, tuple[str, ...]]] = {
    1: (
        "Merci de corriger rapidement.",
        "C'est très pénible.",
        "J'ai dû recommencer trois fois.",
        "Heureusement que ma fille m'a aidée.",
        "Je suis à bout.",
        "Cordialement.",
    ),
    2: ("Merci d'avance.", "Cordialement.", "À améliorer.", "Sinon ça va."),
    3: ("Merci pour ce service.", "Continuez comme ça !", "Merci.", "Bonne journée."),
}
ENGLISH: Final[dict[int, tuple[str, ...]]] = {
    1: (
        "The upload of my passport scan keeps failing.",
        "I never received the confirmation email.",
        "Could not find an English version of the form.",
    ),
    2: ("It worked in the end but the instructions are unclear.", "Too many steps."),
    3: ("Very clear, thank you.", "Quick and easy."),
}
# Personal data some citizens write anyway; it must come out masked, as real submissions do.
PERSONAL: Final = (
    "Vous pouvez me joindre au 06 12 34 56 78.",
    "Rappelez-moi au +33 7 81 22 45 90 svp.",
    "Mon adresse : marie.lefebvre@gmail.com",
    "Mon numéro de sécurité sociale est 2 84 05 75 116 047 12.",
    "Remboursez-moi sur FR76 3000 6000 0112 3456 7890 189.",
)
SPAM: Final = (
    "Gagnez 5000 € par semaine depuis chez vous : http://gain-rapide.example",
    "Best crypto investment, 300% guaranteed, visit http://crypto-profit.example",
    "Référencement pas cher, première page Google garantie www.seo-express.example",
    "Achetez des abonnés Instagram http://followers.example",
)
# Pages that show a copied snippet without being registered: flagged, still kept.
FOREIGN_ORIGINS: Final = (
    "https://www.mairie-saint-denis.fr",
    "https://carte-grise-express-en-ligne.fr",
    "https://recette.demarches.interieur.gouv.fr",
    "http://localhost:8080",
)

TAGS: Final[dict[str, tuple[str, ...]]] = {
    "malfunction": ("bug", "connexion", "paiement", "mobile", "pièces-justificatives"),
    "complaint": ("délais", "contact", "pièces-justificatives"),
    "change_request": ("idée", "accessibilité", "notifications"),
    "omission": ("cas-non-prévu", "information"),
    "accessibility": ("accessibilité", "lecteur-d-écran", "clavier"),
}
NOTES: Final = (
    "Transmis à l'équipe technique.",
    "Doublon d'un signalement déjà traité la semaine dernière.",
    "Relance faite auprès du service instructeur.",
    "Bug connu sur Safari, correctif prévu dans la prochaine version.",
    "L'usager a été rappelé, dossier débloqué.",
    "À présenter au comité produit du mois.",
    "Vérifié : le dossier est complet, en attente de validation.",
)
ANSWERS: Final[dict[str, tuple[str, ...]]] = {
    "malfunction": (
        "Merci pour votre signalement. Le dysfonctionnement a été corrigé le {date} : vous "
        "pouvez reprendre votre démarche là où vous l'aviez laissée.",
        "Nous avons identifié le problème, qui touchait certains navigateurs. Il est résolu "
        "depuis le {date}. Merci de nous l'avoir signalé.",
    ),
    "complaint": (
        "Nous sommes désolés pour ce délai. Les équipes ont été renforcées et les dossiers en "
        "attente sont traités par ordre d'arrivée ; vous recevrez un courriel à chaque étape.",
        "Votre remarque est juste : le délai affiché a été mis à jour le {date} pour refléter "
        "la réalité du traitement.",
    ),
    "change_request": (
        "Merci pour cette proposition. Elle a été retenue et est disponible depuis le {date}.",
        "Bonne idée : elle est inscrite à la feuille de route du service pour le prochain "
        "trimestre.",
    ),
    "omission": (
        "Vous avez raison, ce cas n'était pas prévu. Le formulaire a été complété le {date} et "
        "une aide explique désormais la marche à suivre.",
    ),
    "accessibility": (
        "Merci de nous l'avoir signalé. Ce défaut d'accessibilité a été corrigé le {date} ; "
        "l'étape se fait désormais entièrement au clavier et avec un lecteur d'écran.",
    ),
    "praise": ("Merci pour votre message, il a été transmis à l'équipe qui a conçu ce service.",),
}
MONTHS: Final = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)  # fmt: skip
