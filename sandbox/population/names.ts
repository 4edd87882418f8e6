// Name pools for a population that looks like England's children: many backgrounds, double-barrelled
// surnames, apostrophes, Mc/Mac, several given names, and the nicknames records are often kept under.

export interface NamePool {
  weight: number;
  male: readonly string[];
  female: readonly string[];
  family: readonly string[];
}

const words = (text: string): readonly string[] => text.trim().split(/\s+/);

export const NAME_POOLS: Readonly<Record<string, NamePool>> = {
  britishIrish: {
    weight: 58,
    male: words(`Oliver George Harry Noah Jack Leo Arthur Muhammad Oscar Charlie Jacob Thomas Henry William
      Alfie Joshua Freddie Archie Theo Isaac James Alexander Daniel Samuel Joseph Edward Max Benjamin Lucas Logan
      Ethan Finley Tommy Dylan Harrison Reuben Ronnie Callum Connor Liam Sean Ciaran Declan Rhys Owen Lewis Jamie
      Christopher Matthew Michael Robert Richard Nathan Ryan Kieran Aidan`),
    female: words(`Olivia Amelia Isla Ava Ivy Freya Lily Florence Mia Willow Rosie Sophia Isabella Grace Daisy
      Sienna Poppy Elsie Emily Ella Evelyn Phoebe Sofia Evie Charlotte Harper Matilda Ruby Elizabeth Katherine
      Margaret Victoria Rebecca Jessica Hannah Lucy Chloe Megan Niamh Siobhan Aoife Caitlin Ciara Erin Eleanor
      Abigail Jasmine Layla Holly Lauren Bethany Georgia Amber Scarlett`),
    family: words(`Smith Jones Taylor Brown Williams Wilson Johnson Davies Robinson Wright Thompson Evans Walker
      White Roberts Green Hall Wood Jackson Clarke Hughes Edwards Lewis Harris Turner Martin Cooper Hill Ward Morris
      Moore Clark Lee King Baker Harrison Morgan Allen James Scott Phillips Watson Davis Parker Price Bennett Young
      Griffiths Mitchell Kelly Cook Carter Richardson Bailey Collins Bell Shaw Murphy Miller Cox Richards Khan
      Marshall Anderson Simpson Ellis Adams Singh Begum Wilkinson Foster Chapman Powell Webb Rogers Gray Mason
      O'Brien O'Connor O'Neill O'Sullivan D'Arcy McDonald McKenzie McLaughlin McCarthy MacDonald MacKenzie
      MacLeod Macintyre Fitzgerald Doherty Gallagher Byrne Quinn Walsh Ryan Kennedy Lynch Brennan Duffy Nolan`),
  },
  southAsian: {
    weight: 12,
    male: words(`Muhammad Mohammed Ahmed Ali Hassan Hussain Ibrahim Yusuf Zayn Ayaan Arjun Aarav Rohan Vihaan
      Dev Krish Harjeet Gurpreet Manpreet Sukhdeep Imran Bilal Hamza Rayyan Zain Omar Abdul Aryan Kabir Ishaan`),
    female: words(`Aisha Fatima Maryam Zara Amira Hafsa Inaya Anaya Priya Aanya Diya Isha Simran Harleen Jaspreet
      Navjot Ayesha Khadija Zainab Sana Noor Alisha Riya Saanvi Kiran Mehreen Nadia Rukhsana Safiya Hana`),
    family: words(`Khan Ahmed Hussain Ali Begum Patel Singh Kaur Shah Akhtar Iqbal Rahman Mahmood Chaudhry Malik
      Bibi Islam Uddin Miah Sharma Gupta Kumar Mistry Parmar Chauhan Sandhu Gill Dhillon Bains Sidhu Qureshi
      Siddiqui Butt Mirza Raja Anwar Aslam Rashid`),
  },
  easternEuropean: {
    weight: 7,
    male: words(`Jakub Kacper Szymon Filip Mateusz Antoni Wojciech Oskar Tomasz Piotr Andrei Alexandru Ionut
      Mihai Luca Darius Lukas Matas Dominik Nikola Marek Pawel Krzysztof Adrian`),
    female: words(`Zuzanna Julia Maja Hanna Zofia Lena Alicja Amelia Natalia Oliwia Wiktoria Ioana Maria Elena
      Andreea Bianca Gabija Emilija Ugne Ewa Agnieszka Katarzyna Magdalena Anastasia`),
    family: words(`Nowak Kowalski Wisniewski Wojcik Kowalczyk Kaminski Lewandowski Zielinski Szymanski Wozniak
      Dabrowski Kozlowski Jankowski Mazur Krawczyk Popescu Ionescu Popa Radu Dumitru Stan Stoica Gheorghe
      Kazlauskas Petrauskas Jankauskas Novak Horvat Kovac Nagy Toth`),
  },
  westAfrican: {
    weight: 6,
    male: words(`Oluwaseun Chinedu Emeka Tobi Femi Ayo Kwame Kofi Kwabena Yaw Samuel David Daniel Emmanuel
      Joshua Praise Favour Divine Chukwuemeka Ikenna Olumide Tunde Kayode Jide`),
    female: words(`Adaeze Chioma Ngozi Amara Ifeoma Funmilayo Folake Temitope Abena Akosua Ama Efua Blessing
      Precious Grace Esther Deborah Favour Comfort Oluwatobi Ayomide Damilola Titilayo Nneka`),
    family: words(`Okafor Okonkwo Adeyemi Adebayo Oluwole Ogunleye Balogun Eze Nwosu Obi Mensah Owusu Boateng
      Asante Osei Addo Agyeman Danso Appiah Ibe Chukwu Adeleke Akinola Oyelaran Afolabi`),
  },
  eastAfrican: {
    weight: 3,
    male: words(`Abdirahman Abdullahi Mohamed Ahmed Hassan Yusuf Abdi Omar Ismail Liban Guled Mustafa Dawit
      Yonas Tesfaye Bereket`),
    female: words(`Hodan Amina Fadumo Sagal Ifrah Nasra Hibo Ayan Deka Ilhan Muna Ubah Selam Hiwot Meron Saba`),
    family: words(`Mohamed Ahmed Hassan Ali Abdi Farah Warsame Jama Osman Omar Hussein Yusuf Ismail Nur Aden
      Tesfaye Haile Gebre Bekele Tadesse`),
  },
  eastAsian: {
    weight: 2,
    male: words(`Wei Jun Hao Yi Chen Ming Kai Jian Haoran Zihan Minh Duc Tuan Hiroshi Kenji`),
    female: words(`Mei Xin Yan Li Jing Hui Yue Xiaoling Linh Thao Huong Yuki Sakura Hana`),
    family: words(`Wang Li Zhang Liu Chen Yang Huang Zhao Wu Zhou Xu Sun Ma Zhu Hu Lin Nguyen Tran Le Pham
      Wong Chan Cheung Lam Ng Tanaka Sato`),
  },
  arabic: {
    weight: 3,
    male: words(`Ahmad Mahmoud Khalid Karim Tariq Samir Rami Yousef Nabil Faisal Adam Idris Sami Walid`),
    female: words(`Layla Yasmin Noor Lina Rania Huda Salma Mariam Dina Reem Jana Leen Malak Farah`),
    family: words(`Al-Hashimi Al-Sayed Haddad Nasser Abboud Khalil Saleh Mansour Hamdan Darwish El-Amin Aziz
      Al-Rashid Bakr Jaber Kassem`),
  },
  caribbean: {
    weight: 3,
    male: words(`Tyrone Marcus Jermaine Andre Kyle Jaden Malachi Elijah Isaiah Josiah Dwayne Leon Nathaniel`),
    female: words(`Shanice Keisha Tiana Aaliyah Jada Kiara Nia Simone Chantelle Imani Destiny Aliyah Janelle`),
    family: words(`Campbell Brown Williams Thomas Francis Henry Grant Reid Gordon Ferguson Bailey Samuels
      Lindo Morrison Beckford McKenzie Clarke Robinson Forbes Palmer`),
  },
  westernEuropean: {
    weight: 4,
    male: words(`Luca Matteo Leonardo Francesco Hugo Louis Gabriel Mateo Santiago Diego Joao Tiago Rafael Luis`),
    female: words(`Giulia Sofia Chiara Alice Louise Chloe Ines Lucia Martina Beatriz Mariana Ana Leonor Camille`),
    family: words(`Rossi Russo Ferrari Esposito Bianchi Romano Martin Bernard Dubois Moreau Garcia Fernandez
      Lopez Martinez Rodriguez Silva Santos Ferreira Pereira Oliveira Costa Muller Schmidt Schneider`),
  },
};

/**
 * Common forms a first name is recorded under. Keys are the formal names; values the familiar forms.
 * The matcher must not read this table: it stands for how people, not systems, shorten names.
 */
export const NICKNAMES: Readonly<Record<string, readonly string[]>> = {
  William: ['Will', 'Billy', 'Liam'],
  Alexander: ['Alex', 'Xander', 'Sandy'],
  Thomas: ['Tom', 'Tommy'],
  James: ['Jim', 'Jamie'],
  Joseph: ['Joe', 'Joey'],
  Benjamin: ['Ben', 'Benji'],
  Samuel: ['Sam', 'Sammy'],
  Daniel: ['Dan', 'Danny'],
  Edward: ['Ed', 'Eddie', 'Ted'],
  Christopher: ['Chris'],
  Matthew: ['Matt'],
  Michael: ['Mike', 'Mikey'],
  Robert: ['Rob', 'Bobby'],
  Richard: ['Rich', 'Ricky'],
  Nathaniel: ['Nate', 'Nathan'],
  Joshua: ['Josh'],
  Frederick: ['Freddie', 'Fred'],
  Harrison: ['Harry'],
  Theodore: ['Theo', 'Teddy'],
  Elizabeth: ['Beth', 'Liz', 'Lizzie', 'Eliza'],
  Katherine: ['Kate', 'Katie', 'Kath'],
  Margaret: ['Maggie', 'Peggy'],
  Victoria: ['Vicky', 'Tori'],
  Rebecca: ['Becky', 'Becca'],
  Jessica: ['Jess', 'Jessie'],
  Charlotte: ['Lottie', 'Charlie'],
  Isabella: ['Bella', 'Izzy'],
  Abigail: ['Abbie', 'Abby'],
  Eleanor: ['Ellie', 'Nell'],
  Florence: ['Flo', 'Florrie'],
  Matilda: ['Tilly', 'Tilda'],
  Evelyn: ['Evie'],
  Sophia: ['Sophie'],
  Muhammad: ['Mo'],
  Mohammed: ['Mo'],
  Oluwaseun: ['Seun'],
  Oluwatobi: ['Tobi'],
  Chukwuemeka: ['Emeka'],
  Funmilayo: ['Funmi'],
  Temitope: ['Tope'],
  Damilola: ['Dami'],
  Aleksander: ['Olek'],
  Katarzyna: ['Kasia'],
  Magdalena: ['Magda'],
  Agnieszka: ['Aga'],
  Krzysztof: ['Krzys'],
  Abdirahman: ['Abdi'],
  Abdullahi: ['Abdi'],
  Fadumo: ['Fadi'],
};

/**
 * Names written more than one way: transliterations from Arabic, Somali, Polish and other scripts and
 * traditions, and English spellings that differ. Keys are the national record's spelling; values the
 * ways an LA may have written it. Like NICKNAMES, this stands for the world: the matcher must not read it.
 */
export const SPELLINGS: Readonly<Record<string, readonly string[]>> = {
  Muhammad: ['Mohammed', 'Mohammad', 'Muhammed', 'Mohamed'],
  Mohammed: ['Muhammad', 'Mohammad', 'Mohamed'],
  Mohamed: ['Mohammed', 'Mohamad'],
  Ahmed: ['Ahmad'],
  Ahmad: ['Ahmed'],
  Hussain: ['Hussein', 'Husain'],
  Hussein: ['Hussain'],
  Yusuf: ['Yousef', 'Yusef', 'Yousuf'],
  Yousef: ['Yusuf', 'Youssef'],
  Ibrahim: ['Ebrahim'],
  Hamza: ['Hamzah'],
  Zayn: ['Zain'],
  Zain: ['Zayn'],
  Omar: ['Umar'],
  Mahmoud: ['Mahmud'],
  Abdirahman: ['Abdurahman', 'Abdirahmaan'],
  Abdullahi: ['Abdillahi'],
  Aisha: ['Ayesha', 'Aysha'],
  Ayesha: ['Aisha'],
  Fatima: ['Fatimah', 'Fatma'],
  Maryam: ['Mariam'],
  Mariam: ['Maryam'],
  Khadija: ['Khadijah'],
  Zainab: ['Zaynab'],
  Amina: ['Aminah'],
  Layla: ['Leila', 'Laila'],
  Noor: ['Nur'],
  Safiya: ['Safiyyah'],
  Yonas: ['Jonas'],
  Filip: ['Philip'],
  Jakub: ['Jacob'],
  Pawel: ['Pavel'],
  Andrei: ['Andrey'],
  Lukas: ['Lucas'],
  Lucas: ['Lukas'],
  Zuzanna: ['Susanna'],
  Oliwia: ['Olivia'],
  Wiktoria: ['Viktoria', 'Victoria'],
  Natalia: ['Natalya'],
  Anastasia: ['Anastasiya'],
  Mateo: ['Matteo'],
  Matteo: ['Mateo'],
  Luis: ['Luiz'],
  Ines: ['Inez'],
  Sofia: ['Sophia'],
  Sophia: ['Sofia'],
  Niamh: ['Neve', 'Neave'],
  Caitlin: ['Caitlyn', 'Katelyn'],
  Ciara: ['Kiera'],
  Sean: ['Shaun', 'Shawn'],
  Rhys: ['Reece', 'Reese'],
  Aidan: ['Aiden'],
  Kieran: ['Ciaran'],
  Ciaran: ['Kieran'],
  Connor: ['Conor'],
  Callum: ['Calum'],
  Phoebe: ['Pheobe'],
  Sienna: ['Siena'],
  Tobi: ['Toby'],
  Chaudhry: ['Chaudhary', 'Choudhury'],
  Mahmood: ['Mahmud'],
  Rahman: ['Rehman'],
  Qureshi: ['Kureshi'],
  Siddiqui: ['Siddiqi'],
};

/** Given names an LA may record for a baby before the name is known. */
export const PLACEHOLDER_GIVEN_NAMES = ['Baby', 'Infant', 'Unborn'] as const;
