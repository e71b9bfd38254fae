/* « Je fais un retour » — the dialog's words, French by default, English on English pages.
 *
 * Part of the dialog script: pii.js, texts.js, send.js and dialog.js, in that order, inside
 * one IIFE (ingest/widget_routes.py source_assets), so these names stay private to it.
 * Write plain spaces before « : ; ? ! »: the build turns them into no-break ones
 * (retour/typography.py, the same rule as every page's).
 */

var api = window.JeFaisUnRetour;
var base = api.base;
var MAX = 2000;
var T = api.en ? {
  title: 'Give feedback', procedure: 'Online service: ', close: 'Close',
  required: 'Only the first question is required.',
  sat: 'How did it go?', sats: ['Well', 'So-so', 'Badly'],
  kind: 'What is it about? (optional)',
  kinds: ['A complaint', 'A request for a change', 'Something that does not work',
    'Missing information or step', 'An accessibility problem (screen reader, keyboard, zoom…)',
    'A compliment', 'Something else'],
  comment: 'Your message (optional)',
  commentHint: 'Do not write personal data (social security number, phone…): it would be masked.',
  left: function (n) { return n.toLocaleString('en') + (n === 1 ? ' character left' : ' characters left'); },
  answer: 'I would like an answer', email: 'Your email address',
  emailHint: 'Expected format: name@domain.fr. Used only to answer you.',
  send: 'Send', sending: 'Sending…',
  errSat: 'Say how it went.', errEmail: 'Enter a valid email address, such as name@domain.fr.',
  errEmailNone: 'Enter your email address to get an answer.', errOther: 'This field is invalid.',
  thanks: 'Thank you for your feedback!', thanksText: 'It has been sent to the administration in charge of this service.',
  receipt: 'Your tracking code: ', follow: 'Follow your feedback', newTab: ' (new tab)',
  saved: 'Message saved', savedText: 'You seem to be offline or the service is not answering. Your message is saved on this device and will be sent automatically as soon as possible.',
  pii: function (what, many) {
    return 'Your message seems to contain ' + what + (many ? '. They will be masked: the administration will not see them.'
      : '. It will be masked: the administration will not see it.');
  },
  cut: function (n) { return 'The pasted text was cut at ' + n.toLocaleString('en') + ' characters: the end was not kept.'; },
  answerTo: function (hint) { return 'You asked for an answer: the administration will write to ' + hint + '.'; },
  unknown: 'Unknown service', unknownText: 'This button matches no known service: feedback sent from here could not be delivered.',
  sentLater: 'Your feedback has been sent', sentLaterText: 'The message kept on this device while offline has been delivered.',
  piiAnswer: ' To get an answer, tick “I would like an answer” and give your email address.',
  cats: { email: 'an email address', phone: 'a phone number', nir: 'a social security number',
    iban: 'a bank account number (IBAN)', card: 'a payment card number', plate: 'a number plate',
    address: 'a postal address', birthdate: 'a date of birth', name: 'your name',
    reference: 'a file or reference number' },
  and: ' and ', other: 'personal data'
} : {
  title: 'Je fais un retour', procedure: 'Démarche : ', close: 'Fermer',
  required: 'Seule la première question est obligatoire.',
  sat: 'Comment s’est passée votre démarche ?', sats: ['Bien', 'Moyennement', 'Mal'],
  kind: 'De quoi s’agit-il ? (facultatif)',
  kinds: ['Une réclamation', 'Une demande d’amélioration', 'Un dysfonctionnement',
    'Une information ou une étape manquante',
    'Un problème d’accessibilité (lecteur d’écran, clavier, zoom…)', 'Un compliment', 'Autre chose'],
  comment: 'Votre message (facultatif)',
  commentHint: 'N’écrivez pas de données personnelles (numéro de sécurité sociale, téléphone…) : elles seraient masquées.',
  // French puts 0 and 1 in the singular: « il reste 1 caractère », « il reste 0 caractère ».
  left: function (n) { return 'Il reste ' + n.toLocaleString('fr') + (n > 1 ? ' caractères' : ' caractère'); },
  answer: 'Je souhaite recevoir une réponse', email: 'Votre adresse électronique',
  emailHint: 'Format attendu : nom@domaine.fr. Elle ne sert qu’à vous répondre.',
  send: 'Envoyer', sending: 'Envoi en cours…',
  errSat: 'Indiquez comment s’est passée votre démarche.',
  errEmail: 'Saisissez une adresse électronique valide, par exemple nom@domaine.fr.',
  errEmailNone: 'Saisissez votre adresse électronique pour recevoir une réponse.',
  errOther: 'Ce champ n’est pas valide.',
  thanks: 'Merci pour votre retour !', thanksText: 'Il a bien été transmis à l’administration qui gère cette démarche.',
  receipt: 'Votre code de suivi : ', follow: 'Suivre votre retour', newTab: ' (nouvel onglet)',
  saved: 'Message enregistré', savedText: 'Vous semblez hors connexion ou le service ne répond pas. Votre message est enregistré sur cet appareil et sera envoyé automatiquement dès que possible.',
  pii: function (what, many) {
    return 'Votre message semble contenir ' + what + (many ? '. Ces informations seront masquées : l’administration ne les verra pas.'
      : '. Cette information sera masquée : l’administration ne la verra pas.');
  },
  cut: function (n) { return 'Le texte collé a été coupé à ' + n.toLocaleString('fr') + ' caractères : la fin n’a pas été gardée.'; },
  answerTo: function (hint) { return 'Vous avez demandé une réponse : l’administration vous écrira à l’adresse ' + hint + '.'; },
  unknown: 'Démarche inconnue', unknownText: 'Ce bouton ne correspond à aucune démarche connue : un retour envoyé d’ici ne pourrait pas être transmis.',
  sentLater: 'Votre retour a bien été envoyé', sentLaterText: 'Le message gardé sur cet appareil hors connexion a été transmis.',
  piiAnswer: ' Pour recevoir une réponse, cochez « Je souhaite recevoir une réponse » et indiquez votre adresse électronique.',
  cats: { email: 'une adresse électronique', phone: 'un numéro de téléphone', nir: 'un numéro de sécurité sociale',
    iban: 'un numéro de compte bancaire (IBAN)', card: 'un numéro de carte bancaire', plate: 'une plaque d’immatriculation',
    address: 'une adresse postale', birthdate: 'une date de naissance', name: 'votre nom',
    reference: 'un numéro de dossier' },
  and: ' et ', other: 'des données personnelles'
};
var KINDS = ['complaint', 'change_request', 'malfunction', 'omission', 'accessibility', 'praise',
  'other'];

